import { daysBefore, retentionPolicies } from '../../common/background';
import { QuotaCountersRepository } from './quota-counters.repository';

/** Usage is shown for the current windows only; ended ones are kept this long for support questions. */
export const QUOTA_COUNTER_RETENTION_DAYS = 35;

/** Metering's retention: quota counters of windows that ended more than QUOTA_COUNTER_RETENTION_DAYS ago. */
export const MeteringRetention = retentionPolicies([QuotaCountersRepository], (counters: QuotaCountersRepository) => [
  {
    name: 'quota counters of windows ended over 35 days ago',
    purge: (now) => counters.purgeEndedBefore(daysBefore(now, QUOTA_COUNTER_RETENTION_DAYS)),
  },
]);
