import { Inject, Injectable } from '@nestjs/common';
import { eq, sql } from 'drizzle-orm';
import { stripeEvents } from '../../db/schema';
import { Database, DB } from '../../db/database';
import type { Executor } from '../../db/database';

@Injectable()
export class BillingEventsRepository {
  /** Most of what the provider sends: prepared once per connection, its payload the JSON text as received. */
  private readonly ignored;

  constructor(@Inject(DB) private readonly db: Database) {
    this.ignored = db
      .insert(stripeEvents)
      .values({ id: sql.placeholder('id'), type: sql.placeholder('type'), payload: sql`${sql.placeholder('payload')}::jsonb`, outcome: 'IGNORED' })
      .onConflictDoNothing()
      .prepare('stripe_event_ignored');
  }

  /**
   * An event nothing applies: stored once with its outcome in one statement (a redelivery changes
   * nothing). `payload` is the event's JSON text, stored without serialising it again.
   */
  async insertIgnored(event: { id: string; type: string; payload: string }): Promise<void> {
    await this.ignored.execute(event);
  }

  /**
   * Keyed by the provider's event id with ON CONFLICT DO NOTHING: a concurrent redelivery waits for the
   * first transaction and then finds the row (unlike a caught violation, the caller's transaction goes on).
   */
  async insertOnce(tx: Executor, event: { id: string; type: string; payload: unknown }): Promise<{ outcome: 'created' } | { outcome: 'duplicate' }> {
    const [inserted] = await tx.insert(stripeEvents).values(event).onConflictDoNothing().returning({ id: stripeEvents.id });
    return inserted ? { outcome: 'created' } : { outcome: 'duplicate' };
  }

  /** What applying the event did, refusals included. */
  async setOutcome(tx: Executor, id: string, outcome: string): Promise<void> {
    await tx.update(stripeEvents).set({ outcome }).where(eq(stripeEvents.id, id));
  }
}
