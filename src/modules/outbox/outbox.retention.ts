import { daysBefore, retentionPolicies } from '../../common/background';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { OutboxRepository } from './outbox.repository';

/** The outbox's retention: messages delivered more than OUTBOX_RETENTION_DAYS ago (undelivered ones never go). */
export const OutboxRetention = retentionPolicies([OutboxRepository, APP_CONFIG], (outbox: OutboxRepository, config: AppConfig) => [
  {
    name: 'outbox messages delivered over OUTBOX_RETENTION_DAYS ago',
    purge: (now) => outbox.purgeDeliveredBefore(daysBefore(now, config.outbox.retentionDays)),
  },
]);
