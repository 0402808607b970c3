import { Injectable, OnModuleInit } from '@nestjs/common';
import { daysBefore, Retention } from '../../common/background';
import { QuotaCountersRepository } from './quota-counters.repository';

/** Usage is shown for the current windows only; ended ones are kept this long for support questions. */
export const QUOTA_COUNTER_RETENTION_DAYS = 35;

/** Metering's retention: quota counters of windows that ended more than QUOTA_COUNTER_RETENTION_DAYS ago. */
@Injectable()
export class MeteringRetention implements OnModuleInit {
  constructor(
    private readonly counters: QuotaCountersRepository,
    private readonly retention: Retention,
  ) {}

  onModuleInit() {
    this.retention.register({
      name: 'quota counters of windows ended over 35 days ago',
      purge: (now) => this.counters.purgeEndedBefore(daysBefore(now, QUOTA_COUNTER_RETENTION_DAYS)),
    });
  }
}
