import { Injectable, OnModuleInit } from '@nestjs/common';
import { Retention } from '../../common/background';
import { AccountsRepository } from './accounts.repository';

/** Accounts' retention: per-number text counters of past UTC days. */
@Injectable()
export class AccountsRetention implements OnModuleInit {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly retention: Retention,
  ) {}

  onModuleInit() {
    this.retention.register({
      name: 'phone send counters of past days',
      purge: (now) => this.accounts.pruneDailyPhoneCounts(now.toISOString().slice(0, 10)),
    });
  }
}
