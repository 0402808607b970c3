import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/config';
import type { Transaction } from '../../db/database';
import { Clock } from '../clock';
import { SecretBox } from '../crypto/secret-box';
import { Language } from '../i18n/language';
import { OutboundMailsRepository } from './outbound-mails.repository';

/** Each template's parameters, as src/i18n/<lang>/mail.json interpolates them. */
export interface MailParams {
  passwordReset: { name: string; link: string; minutes: string };
  accountActivation: { name: string; link: string; hours: string };
  identityLinked: { name: string; provider: string; email: string };
  twoFactorEnabled: { name: string };
  twoFactorDisabled: { name: string };
  twoFactorReset: { name: string };
  twoFactorLocked: { name: string; failures: string; minutes: string };
  licensesIssued: { name: string; orderId: string; keys: string };
  paymentFailed: { name: string; orderId: string };
  subscriptionPaymentFailed: { name: string; plan: string; graceDays: string };
  quotaWarning: QuotaMailParams;
  quotaExceeded: QuotaMailParams;
  webhookEndpointDisabled: { name: string; url: string; days: string };
}

interface QuotaMailParams {
  name: string;
  plan: string;
  used: string;
  limit: string;
  apiVersion: string;
  endpoint: string;
  resetsAt: string;
}

export type MailTemplate = keyof MailParams;

export interface MailRecipient {
  email: string;
  language: Language;
}

/** Queued; or not, because the address already had its mails of the hour (and when one is free again). */
export type QueueOutcome = { queued: true } | { queued: false; retryAfterSeconds: number };

/**
 * The mails anyone can ask for again and again (a password reset needs only an email address), so
 * one address gets at most MAIL_MAX_PER_ADDRESS_PER_HOUR of them. The others are each bounded by
 * what causes them (a purchase, a lockout, a quota window) and carry what the user must get (license
 * keys, security notices), so a flood of resets never holds them back.
 */
const CAPPED: readonly MailTemplate[] = ['passwordReset', 'accountActivation'];
const HOUR_MS = 3_600_000;
const RECIPIENT_MAC = 'mail-recipient';

/**
 * Queues mails: each is written to outbound_mails in the caller's transaction, so it exists exactly
 * when the change that causes it commits, and MailSender delivers it afterwards (with retries). No
 * request waits on SMTP. The parameters are sealed at rest (they hold links with tokens, and keys).
 */
@Injectable()
export class MailService {
  private readonly logger = new Logger('Mail');

  constructor(
    private readonly mails: OutboundMailsRepository,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async queue<T extends MailTemplate>(tx: Transaction, to: MailRecipient, template: T, params: MailParams[T]): Promise<QueueOutcome> {
    const now = this.clock.now();
    const row = {
      recipient: to.email,
      template,
      language: to.language,
      paramsSealed: this.box.seal(JSON.stringify(params)),
      nextAttemptAt: now,
      createdAt: now,
    };
    if (!CAPPED.includes(template)) {
      await this.mails.insert(tx, row);
      return { queued: true };
    }
    const max = this.config.mail.maxPerAddressPerHour;
    const result = await this.mails.insertWithinCap(tx, row, { templates: CAPPED, max, since: new Date(now.getTime() - HOUR_MS) });
    if (result.inserted) return { queued: true };
    // The address is keyed and hashed: the log shows that one address is flooded, not which.
    this.logger.warn(
      { event: 'mail_cap_reached', template, recipient: this.box.mac(RECIPIENT_MAC, to.email.toLowerCase()), max },
      'A mail was not queued: its address already had MAIL_MAX_PER_ADDRESS_PER_HOUR of them this hour',
    );
    const freeAt = result.oldest.getTime() + HOUR_MS;
    return { queued: false, retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000)) };
  }
}
