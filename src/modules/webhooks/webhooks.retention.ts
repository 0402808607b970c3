import { daysBefore, retentionPolicies } from '../../common/background';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';

/** Webhooks' retention: deliveries completed more than WEBHOOK_RETENTION_DAYS ago, their attempts with them. */
export const WebhooksRetention = retentionPolicies([WebhookDeliveriesRepository, APP_CONFIG], (deliveries: WebhookDeliveriesRepository, config: AppConfig) => [
  {
    name: 'webhook deliveries completed over WEBHOOK_RETENTION_DAYS ago',
    purge: (now) => deliveries.purgeCompletedBefore(daysBefore(now, config.webhooks.retentionDays)),
  },
]);
