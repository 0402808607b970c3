import { APP_CONFIG, AppConfig } from '../../config/config';
import { daysBefore, retentionPolicies } from '../background';
import { OutboundMailsRepository } from './outbound-mails.repository';

/** Mail's retention: mails SENT or FAILED more than MAIL_RETENTION_DAYS ago (pending ones never go). */
export const MailRetention = retentionPolicies([OutboundMailsRepository, APP_CONFIG], (mails: OutboundMailsRepository, config: AppConfig) => [
  {
    name: 'mails sent or given up over MAIL_RETENTION_DAYS ago',
    purge: (now) => mails.purgeCompletedBefore(daysBefore(now, config.mail.retentionDays)),
  },
]);
