import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { QuotaCountersRepository } from './quota-counters.repository';

const PURGE_INTERVAL_MS = 3_600_000;
/** Usage is shown for the current windows only; ended ones are kept this long for support questions. */
export const QUOTA_COUNTER_RETENTION_DAYS = 35;

/** Hourly (and once at boot), drops quota counters of windows that ended more than QUOTA_COUNTER_RETENTION_DAYS ago. */
@Injectable()
export class QuotaCountersPurger implements OnModuleInit {
  private readonly logger = new Logger('QuotaCounters');

  constructor(
    private readonly counters: QuotaCountersRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  onModuleInit() {
    this.background.every('quota counter purge', PURGE_INTERVAL_MS, () => this.purge());
  }

  async purge(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - QUOTA_COUNTER_RETENTION_DAYS * 86_400_000);
    const purged = await this.counters.purgeEndedBefore(cutoff);
    if (purged > 0) this.logger.log(`Purged ${purged} quota counters of windows ended before ${cutoff.toISOString()}`);
  }
}
