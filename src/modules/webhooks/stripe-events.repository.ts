import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { stripeEvents } from '../../db/schema';
import type { Executor } from '../../db/database';

@Injectable()
export class StripeEventsRepository {
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
