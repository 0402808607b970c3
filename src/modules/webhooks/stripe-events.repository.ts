import { Inject, Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { stripeEvents } from '../../db/schema';
import { Database, DB } from '../../db/database';
import type { Executor } from '../../db/database';

@Injectable()
export class StripeEventsRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** An event nothing applies: stored once with its outcome in one statement (a redelivery changes nothing). */
  async insertIgnored(event: { id: string; type: string; payload: unknown }): Promise<void> {
    await this.db
      .insert(stripeEvents)
      .values({ ...event, outcome: 'IGNORED' })
      .onConflictDoNothing();
  }

  /**
   * Keyed by Stripe's event id with ON CONFLICT DO NOTHING: a concurrent redelivery waits for the
   * first transaction and then finds the row. False when the event was already stored.
   */
  async insertOnce(tx: Executor, event: { id: string; type: string; payload: unknown }): Promise<boolean> {
    const [inserted] = await tx.insert(stripeEvents).values(event).onConflictDoNothing().returning({ id: stripeEvents.id });
    return inserted !== undefined;
  }

  /** What applying the event did, refusals included. */
  async setOutcome(tx: Executor, id: string, outcome: string): Promise<void> {
    await tx.update(stripeEvents).set({ outcome }).where(eq(stripeEvents.id, id));
  }
}
