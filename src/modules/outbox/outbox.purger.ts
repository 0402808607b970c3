import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { AppConfig, InjectConfig } from '../../config/config';
import { OutboxRepository } from './outbox.repository';

const PURGE_INTERVAL_MS = 3_600_000;

/** Hourly (and once at boot, for processes that live less than an hour), drops outbox messages delivered more than OUTBOX_RETENTION_DAYS ago. */
@Injectable()
export class OutboxPurger implements OnModuleInit {
  private readonly logger = new Logger('Outbox');

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.background.every('outbox purge', PURGE_INTERVAL_MS, () => this.purge());
  }

  async purge(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.outbox.retentionDays * 86_400_000);
    const purged = await this.outbox.purgeDeliveredBefore(cutoff);
    if (purged > 0) this.logger.log(`Purged ${purged} outbox messages delivered before ${cutoff.toISOString()}`);
  }
}
