import { Injectable, Logger } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import { AppConfig, InjectConfig } from '../../config/config';
import { lazyRequire } from '../lazy-require';
import { DevMailbox } from './dev-mailbox';
import type { RenderedMail } from './rendered-mail';

/** Mail is sent from the outbox, after boot: nodemailer is loaded with the first one. */
const nodemailer = lazyRequire<typeof import('nodemailer')>('nodemailer');

/** An attempt's outcome; `permanent`: the server refused this message for good, another attempt would fail alike. */
export type SendResult = { ok: true } | { ok: false; permanent: boolean; error: string };

/** Refusals of this one message (no such mailbox, message refused), as opposed to the server or our setup failing. */
const MESSAGE_REFUSED = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * SMTP (SMTP_URL; `?pool=true` in it pools connections), with a timeout on each phase of the
 * conversation and a deadline on each attempt as a whole: a server that never answers, or stalls
 * after its greeting, fails the attempt within SMTP_SEND_TIMEOUT_MS instead of holding it for the
 * library's defaults (minutes). Without SMTP_URL, which the config allows only outside production,
 * nothing is sent: each mail is kept for GET /dev/mail (DevMailbox) and logged in one readable line
 * (recipient, subject, links).
 */
@Injectable()
export class MailTransport {
  private transporter: Transporter | undefined;
  private readonly logger = new Logger('Mail');

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly devMailbox: DevMailbox,
  ) {}

  private transport(smtpUrl: string): Transporter {
    const { smtp } = this.config.mail;
    this.transporter ??= nodemailer().createTransport({
      url: smtpUrl,
      connectionTimeout: smtp.connectionTimeoutMs,
      greetingTimeout: smtp.greetingTimeoutMs,
      socketTimeout: smtp.socketTimeoutMs,
    });
    return this.transporter;
  }

  async send(mail: RenderedMail): Promise<SendResult> {
    const { from, smtpUrl, smtp } = this.config.mail;
    if (!smtpUrl) {
      const kept = this.devMailbox.keep(mail, new Date());
      const links = kept.links.length > 0 ? ` links: ${kept.links.join(' ')}` : '';
      this.logger.log(`Mail not sent (SMTP_URL unset; see /dev/mail) to ${kept.to}: "${kept.subject}"${links}`);
      return { ok: true };
    }
    try {
      await this.transport(smtpUrl).sendMail({ from, ...mail, signal: AbortSignal.timeout(smtp.sendTimeoutMs) });
      return { ok: true };
    } catch (error) {
      return failureOf(error, smtp.sendTimeoutMs);
    }
  }

  /** Closes pooled connections; called once the last send has ended. */
  close(): void {
    this.transporter?.close();
  }
}

function failureOf(error: unknown, deadlineMs: number): SendResult {
  const { code, responseCode, message } = (error ?? {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
  if (code === 'EABORT') return { ok: false, permanent: false, error: `TIMEOUT: no answer within ${deadlineMs} ms` };
  const permanent = MESSAGE_REFUSED.has(String(code)) && typeof responseCode === 'number' && responseCode >= 550 && responseCode <= 554;
  const text = `${typeof code === 'string' ? code : 'ERROR'}: ${typeof message === 'string' ? message : String(error)}`;
  return { ok: false, permanent, error: text.slice(0, 500) };
}
