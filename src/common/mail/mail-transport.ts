import { Injectable, Logger } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import { AppConfig, InjectConfig } from '../../config/config';
import { lazyRequire } from '../lazy-require';

/** Mail is sent from the outbox, after boot: nodemailer is loaded with the first one. */
const nodemailer = lazyRequire<typeof import('nodemailer')>('nodemailer');

export interface RenderedMail {
  to: string;
  subject: string;
  text: string;
}

/** An attempt's outcome; `permanent`: the server refused this message for good, another attempt would fail alike. */
export type SendResult = { ok: true } | { ok: false; permanent: boolean; error: string };

/** Refusals of this one message (no such mailbox, message refused), as opposed to the server or our setup failing. */
const MESSAGE_REFUSED = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * SMTP (SMTP_URL; `?pool=true` in it pools connections), with a timeout on each phase of the
 * conversation and a deadline on each attempt as a whole: a server that never answers, or stalls
 * after its greeting, fails the attempt within SMTP_SEND_TIMEOUT_MS instead of holding it for the
 * library's defaults (minutes). Without SMTP_URL, which the config allows only outside production,
 * each mail is written to the log instead.
 */
@Injectable()
export class MailTransport {
  private transporter: Transporter | undefined;
  private readonly logger = new Logger('Mail');

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  private transport(): Transporter {
    const { smtpUrl, smtp } = this.config.mail;
    const { createTransport } = nodemailer();
    this.transporter ??= smtpUrl
      ? createTransport({
          url: smtpUrl,
          connectionTimeout: smtp.connectionTimeoutMs,
          greetingTimeout: smtp.greetingTimeoutMs,
          socketTimeout: smtp.socketTimeoutMs,
        })
      : createTransport({ jsonTransport: true });
    return this.transporter;
  }

  async send(mail: RenderedMail): Promise<SendResult> {
    const { from, smtpUrl, smtp } = this.config.mail;
    try {
      const info = (await this.transport().sendMail({ from, ...mail, signal: AbortSignal.timeout(smtp.sendTimeoutMs) })) as { message?: unknown };
      if (!smtpUrl) this.logger.log(`Mail (SMTP_URL unset, not sent): ${String(info.message)}`);
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
