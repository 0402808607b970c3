import { Injectable, OnModuleInit } from '@nestjs/common';
import { daysBefore, Retention } from '../../common/background';
import { AppConfig, InjectConfig } from '../../config/config';
import { OutboxRepository } from './outbox.repository';

/** The outbox's retention: messages delivered more than OUTBOX_RETENTION_DAYS ago (undelivered ones never go). */
@Injectable()
export class OutboxRetention implements OnModuleInit {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly retention: Retention,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.retention.register({
      name: 'outbox messages delivered over OUTBOX_RETENTION_DAYS ago',
      purge: (now) => this.outbox.purgeDeliveredBefore(daysBefore(now, this.config.outbox.retentionDays)),
    });
  }
}
