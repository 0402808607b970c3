import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig, InjectConfig } from '../../config/config';
import type { RenderedMail } from './rendered-mail';

/** The latest mails kept for /dev/mail; older ones are dropped, so memory stays bounded. */
export const DEV_MAILBOX_SIZE = 50;

export interface DevMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  /** Every http(s) link in the text, in order: what a developer clicks (activation, reset). */
  links: string[];
  sentAt: string;
}

const LINK = /https?:\/\/[^\s<>"')]+/g;

/**
 * Outside production and without SMTP_URL, mails are not sent anywhere: they are kept here (the
 * latest DEV_MAILBOX_SIZE) and shown at GET /dev/mail, so a developer can follow an activation or
 * reset link without a mail server. In production this keeps nothing, and /dev/mail does not exist.
 */
@Injectable()
export class DevMailbox {
  private readonly mails: DevMail[] = [];
  readonly enabled: boolean;

  constructor(@InjectConfig() config: AppConfig) {
    this.enabled = config.env !== 'production' && !config.mail.smtpUrl;
  }

  /** Keeps the mail (when enabled) and returns what was kept, for the log line. */
  keep(mail: RenderedMail, now: Date): DevMail {
    const kept: DevMail = {
      id: randomUUID(),
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      links: mail.text.match(LINK) ?? [],
      sentAt: now.toISOString(),
    };
    if (!this.enabled) return kept;
    this.mails.unshift(kept);
    if (this.mails.length > DEV_MAILBOX_SIZE) this.mails.length = DEV_MAILBOX_SIZE;
    return kept;
  }

  /** Newest first. */
  list(): readonly DevMail[] {
    return this.mails;
  }
}
