import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { AppConfig, InjectConfig } from '../../config/config';
import { OutboxRepository } from './outbox.repository';

const PURGE_INTERVAL_MS = 3_600_000;

/** Hourly (and once at boot, for processes that live less than an hour), drops outbox messages delivered more than OUTBOX_RETENTION_DAYS ago. */
@Injectable()
export class OutboxPurger implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Outbox');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.timer = setInterval(() => this.background.run('outbox purge', () => this.purge()), PURGE_INTERVAL_MS).unref();
    this.background.run('outbox purge', () => this.purge());
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async purge(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.outbox.retentionDays * 86_400_000);
    const purged = await this.outbox.purgeDeliveredBefore(cutoff);
    if (purged > 0) this.logger.log(`Purged ${purged} outbox messages delivered before ${cutoff.toISOString()}`);
  }
}
