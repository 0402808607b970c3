import type { PlanLimit, PlanTerms } from '../../db/schema/subscriptions';
import { addMonths } from '../../lib/calendar';

/** One allowance of a limit: calls count from `start` until `end` (null: it never resets). */
export interface QuotaWindow {
  start: Date;
  end: Date | null;
}

const DAY_MS = 86_400_000;

/**
 * The window of `now` in a subscription period that started at `periodStart`. DAILY windows are UTC
 * days; MONTHLY and YEARLY ones are anchored to the period start, each counted from the anchor
 * (Jan 31 → Feb 28/29 → Mar 31, never drifting to the 28th); NONE is the whole term. No window
 * outlives the term: at its end the allowance starts again (a renewal is a new period) or the
 * plan lapses, so a 45-day term's second MONTHLY window, and the reset it announces, end on day 45.
 */
export function quotaWindow(reset: PlanTerms['limitResetPeriod'], periodStart: Date, periodEnd: Date | null, now: Date): QuotaWindow {
  const window = unclampedWindow(reset, periodStart, periodEnd, now);
  return periodEnd && window.end && window.end > periodEnd ? { start: window.start, end: periodEnd } : window;
}

function unclampedWindow(reset: PlanTerms['limitResetPeriod'], periodStart: Date, periodEnd: Date | null, now: Date): QuotaWindow {
  switch (reset) {
    case 'DAILY': {
      const start = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
      return { start: new Date(start), end: new Date(start + DAY_MS) };
    }
    case 'MONTHLY':
      return anchored(periodStart, now, 1);
    case 'YEARLY':
      return anchored(periodStart, now, 12);
    case 'NONE':
      return { start: periodStart, end: periodEnd };
  }
}

function anchored(anchor: Date, now: Date, months: number): QuotaWindow {
  if (now < anchor) return { start: anchor, end: addMonths(anchor, months) };
  const elapsedMonths = (now.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (now.getUTCMonth() - anchor.getUTCMonth());
  let steps = Math.floor(elapsedMonths / months);
  if (addMonths(anchor, steps * months) > now) steps--;
  return { start: addMonths(anchor, steps * months), end: addMonths(anchor, (steps + 1) * months) };
}

/**
 * The limit a call to `(apiVersion, endpoint)` counts against: the endpoint's own, else the
 * version's "*". Undefined: the plan does not include the endpoint.
 */
export function limitFor(limits: readonly PlanLimit[], apiVersion: string, endpoint: string): PlanLimit | undefined {
  let wildcard: PlanLimit | undefined;
  for (const limit of limits) {
    if (limit.apiVersion !== apiVersion) continue;
    if (limit.endpoint === endpoint) return limit;
    if (limit.endpoint === '*') wildcard = limit;
  }
  return wildcard;
}
