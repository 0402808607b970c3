import type { PlanDuration } from '../../db/schema/subscriptions';
import { addMonths } from '../../lib/calendar';

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
