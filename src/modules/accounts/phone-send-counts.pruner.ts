import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { AccountsRepository } from './accounts.repository';

const PRUNE_INTERVAL_MS = 3_600_000;

/** Hourly, removes per-number text counters of past UTC days, so the table stays small. */
@Injectable()
export class PhoneSendCountsPruner implements OnModuleInit, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly accounts: AccountsRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  onModuleInit() {
    this.timer = setInterval(() => this.background.run('phone send count pruning', () => this.prune()), PRUNE_INTERVAL_MS).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async prune(): Promise<void> {
    await this.accounts.pruneDailyPhoneCounts(this.clock.now().toISOString().slice(0, 10));
  }
}
