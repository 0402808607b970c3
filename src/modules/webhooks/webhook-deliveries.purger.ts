import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { AppConfig, InjectConfig } from '../../config/config';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';

const PURGE_INTERVAL_MS = 3_600_000;

/** Hourly (and once at boot, for processes that live less than an hour), drops deliveries completed more than WEBHOOK_RETENTION_DAYS ago, their attempts with them. */
@Injectable()
export class WebhookDeliveriesPurger implements OnModuleInit {
  private readonly logger = new Logger('WebhookDeliveries');

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.background.every('webhook deliveries purge', PURGE_INTERVAL_MS, () => this.purge());
  }

  async purge(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.webhooks.retentionDays * 86_400_000);
    const purged = await this.deliveries.purgeCompletedBefore(cutoff);
    if (purged > 0) this.logger.log(`Purged ${purged} webhook deliveries completed before ${cutoff.toISOString()}`);
  }
}
