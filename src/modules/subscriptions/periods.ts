import type { PlanDuration } from '../../db/schema/subscriptions';

/**
 * `months` calendar months after `start`, in UTC, clamped to the end of a shorter month: Jan 31 +
 * 1 month is the last day of February, and Feb 29 + 1 year is Feb 28. The metering issue anchors
 * MONTHLY and YEARLY quota windows with the same rule, so it lives here once.
 */
export function addMonths(start: Date, months: number): Date {
  const year = start.getUTCFullYear();
  const month = start.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const result = new Date(start);
  result.setUTCFullYear(year, month, Math.min(start.getUTCDate(), lastDay));
  return result;
}

/** When a period of `duration` that starts at `start` ends. */
export function periodEnd(start: Date, duration: PlanDuration): Date {
  switch (duration.unit) {
    case 'DAY':
      return new Date(start.getTime() + duration.count * 86_400_000);
    case 'MONTH':
      return addMonths(start, duration.count);
    case 'YEAR':
      return addMonths(start, duration.count * 12);
  }
}
