import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp, varchar } from 'drizzle-orm/pg-core';
import { PLAN_LIMITS } from './subscriptions';
import { users } from './users';

/**
 * Metered calls per user, limit and window. A window belongs to one subscription period
 * (`periodStart`), so a plan change starts every count again from zero. `endpoint` is the limit's
 * own name: "*" counts every call that limit covers. Each call is one conditional increment
 * (`used + cost <= limit`), exact across instances; the alert columns make each of the two
 * alerts fire once per window however many calls race past the threshold.
 */
export const quotaCounters = pgTable(
  'quota_counters',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    apiVersion: varchar('api_version', { length: PLAN_LIMITS.apiVersion }).notNull(),
    endpoint: varchar('endpoint', { length: PLAN_LIMITS.endpoint }).notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    /** Null: the allowance has no reset (NONE reset on a plan without an end). */
    windowEnd: timestamp('window_end', { withTimezone: true }),
    used: integer('used').notNull(),
    warnedAt: timestamp('warned_at', { withTimezone: true }),
    exceededAt: timestamp('exceeded_at', { withTimezone: true }),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.periodStart, table.apiVersion, table.endpoint, table.windowStart] }),
    index('quota_counters_window_end_idx')
      .on(table.windowEnd)
      .where(sql`window_end IS NOT NULL`),
    check('quota_counters_used_check', sql`${table.used} >= 0`),
  ],
);
