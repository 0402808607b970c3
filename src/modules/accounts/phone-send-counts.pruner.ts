import { Injectable, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { AccountsRepository } from './accounts.repository';

const PRUNE_INTERVAL_MS = 3_600_000;

/** Hourly, removes per-number text counters of past UTC days, so the table stays small. */
@Injectable()
export class PhoneSendCountsPruner implements OnModuleInit {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  onModuleInit() {
    this.background.every('phone send count pruning', PRUNE_INTERVAL_MS, () => this.prune(), { atStart: false });
  }

  async prune(): Promise<void> {
    await this.accounts.pruneDailyPhoneCounts(this.clock.now().toISOString().slice(0, 10));
  }
}
