import { Injectable, OnModuleInit } from '@nestjs/common';
import { daysBefore, Retention } from '../../common/background';
import { AppConfig, InjectConfig } from '../../config/config';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';

/** Webhooks' retention: deliveries completed more than WEBHOOK_RETENTION_DAYS ago, their attempts with them. */
@Injectable()
export class WebhooksRetention implements OnModuleInit {
  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly retention: Retention,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.retention.register({
      name: 'webhook deliveries completed over WEBHOOK_RETENTION_DAYS ago',
      purge: (now) => this.deliveries.purgeCompletedBefore(daysBefore(now, this.config.webhooks.retentionDays)),
    });
  }
}
