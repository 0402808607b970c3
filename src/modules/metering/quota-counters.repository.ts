import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import { Database, DB, Executor } from '../../db/database';
import { quotaCounters } from '../../db/schema';

/** One counter: a user's calls against one limit in one window of one subscription period. */
export interface CounterKey {
  userId: string;
  periodStart: Date;
  apiVersion: string;
  endpoint: string;
  windowStart: Date;
}

export type QuotaAlert = 'warning' | 'exceeded';

export type CounterRow = typeof quotaCounters.$inferSelect;

const matches = (key: CounterKey) =>
  and(
    eq(quotaCounters.userId, key.userId),
    eq(quotaCounters.periodStart, key.periodStart),
    eq(quotaCounters.apiVersion, key.apiVersion),
    eq(quotaCounters.endpoint, key.endpoint),
    eq(quotaCounters.windowStart, key.windowStart),
  );

@Injectable()
export class QuotaCountersRepository {
  /** The hot path: one prepared statement that counts a call only if it fits. */
  private readonly consumeStatement;

  constructor(@Inject(DB) private readonly db: Database) {
    const cost = sql.placeholder('cost');
    this.consumeStatement = this.db
      .insert(quotaCounters)
      .values({
        userId: sql.placeholder('userId'),
        periodStart: sql.placeholder('periodStart'),
        apiVersion: sql.placeholder('apiVersion'),
        endpoint: sql.placeholder('endpoint'),
        windowStart: sql.placeholder('windowStart'),
        windowEnd: sql.placeholder('windowEnd'),
        used: cost,
      })
      .onConflictDoUpdate({
        target: [quotaCounters.userId, quotaCounters.periodStart, quotaCounters.apiVersion, quotaCounters.endpoint, quotaCounters.windowStart],
        set: { used: sql`${quotaCounters.used} + ${cost}::integer` },
        setWhere: sql`${quotaCounters.used} + ${cost}::integer <= ${sql.placeholder('limit')}::integer`,
      })
      .returning({ used: quotaCounters.used })
      .prepare('quota_consume');
  }

  /**
   * Adds `cost` calls if the total stays within `limit`, atomically (the row lock of the upsert
   * orders concurrent callers on every instance): the count after, or undefined when it would not
   * fit and nothing was counted. The caller never passes a cost above the limit, so a first call
   * that inserts the row always fits.
   */
  async consume(key: CounterKey, windowEnd: Date | null, cost: number, limit: number): Promise<number | undefined> {
    const [row] = await this.consumeStatement.execute({ ...key, windowEnd, cost, limit });
    return row?.used;
  }

  /** Gives back what a call consumed (it failed on our side). */
  async refund(key: CounterKey, cost: number): Promise<void> {
    await this.db
      .update(quotaCounters)
      .set({ used: sql`greatest(${quotaCounters.used} - ${cost}, 0)` })
      .where(matches(key));
  }

  async used(key: CounterKey): Promise<number> {
    const [row] = await this.db.select({ used: quotaCounters.used }).from(quotaCounters).where(matches(key));
    return row?.used ?? 0;
  }

  /**
   * Marks an alert as sent for the counter's window: true for exactly one caller per window, in
   * the caller's transaction (with the outbox row it writes), however many race to it.
   */
  async claimAlert(tx: Executor, key: CounterKey, alert: QuotaAlert, at: Date): Promise<boolean> {
    const column = alert === 'warning' ? quotaCounters.warnedAt : quotaCounters.exceededAt;
    const claimed = await tx
      .update(quotaCounters)
      .set(alert === 'warning' ? { warnedAt: at } : { exceededAt: at })
      .where(and(matches(key), isNull(column)))
      .returning({ used: quotaCounters.used });
    return claimed.length > 0;
  }

  /** A user's counters of one window of one period, every limit's. */
  forWindow(userId: string, periodStart: Date, windowStart: Date): Promise<CounterRow[]> {
    return this.db
      .select()
      .from(quotaCounters)
      .where(and(eq(quotaCounters.userId, userId), eq(quotaCounters.periodStart, periodStart), eq(quotaCounters.windowStart, windowStart)));
  }

  /** Deletes counters of windows that ended before `cutoff`; how many. */
  async purgeEndedBefore(cutoff: Date): Promise<number> {
    const result = await this.db.delete(quotaCounters).where(lt(quotaCounters.windowEnd, cutoff));
    return result.rowCount ?? 0;
  }
}
