import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import { AppConfig, InjectConfig } from '../../config/config';
import { DomainError } from '../errors/domain-error';
import { I18nService } from '../i18n/i18n.service';
import { Language } from '../i18n/language';

export type MailTemplate =
  | 'passwordReset'
  | 'accountActivation'
  | 'identityLinked'
  | 'twoFactorEnabled'
  | 'twoFactorDisabled'
  | 'twoFactorReset'
  | 'twoFactorLocked'
  | 'licensesIssued'
  | 'paymentFailed'
  | 'subscriptionPaymentFailed'
  | 'quotaWarning'
  | 'quotaExceeded'
  | 'webhookEndpointDisabled';

/**
 * Sends mail over SMTP (SMTP_URL). Without SMTP_URL, which the config allows only outside
 * production, each mail is written to the log instead. Subjects and bodies come from
 * src/i18n/<lang>/mail.json, in the recipient's language.
 */
@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly transporter: Transporter;
  private readonly logger = new Logger('Mail');

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly i18n: I18nService,
  ) {
    this.transporter = config.mail.smtpUrl ? createTransport(config.mail.smtpUrl) : createTransport({ jsonTransport: true });
  }

  async sendTemplate(to: string, template: MailTemplate, lang: Language, params: Record<string, string>): Promise<void> {
    const subject = this.i18n.translate(`mail:${template}.subject`, lang, params);
    const text = this.i18n.translate(`mail:${template}.text`, lang, params);
    const info = (await this.transporter.sendMail({ from: this.config.mail.from, to, subject, text }).catch((error: unknown) => {
      throw new DomainError('UPSTREAM_FAILED', { cause: error });
    })) as { message?: unknown };
    if (!this.config.mail.smtpUrl) this.logger.log(`Mail (SMTP_URL unset, not sent): ${String(info.message)}`);
  }

  onApplicationShutdown() {
    this.transporter.close();
  }
}
