import { Inject, Injectable } from '@nestjs/common';
import { and, asc, inArray, isNotNull, isNull, lt } from 'drizzle-orm';
import { Database, DB } from '../../db/database';
import { outboxMessages } from '../../db/schema';
import type { Executor, Transaction } from '../../db/database';
import { OutboxEvent } from './outbox.events';

export type OutboxRow = typeof outboxMessages.$inferSelect;

@Injectable()
export class OutboxRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** The one way an event enters the outbox: in the caller's transaction, so it commits with the change it reports. */
  append(tx: Executor, event: OutboxEvent): Promise<void> {
    return this.appendAll(tx, [event]);
  }

  /** `append` for several events of one change (an order's licenses), in one statement. */
  async appendAll(tx: Executor, events: OutboxEvent[]): Promise<void> {
    if (events.length > 0) await tx.insert(outboxMessages).values(events);
  }

  /**
   * The oldest messages not yet handed to webhook delivery, locked for the caller's transaction
   * (SKIP LOCKED: another instance takes the next ones instead of waiting).
   */
  claimUndelivered(tx: Transaction, limit: number): Promise<OutboxRow[]> {
    return tx
      .select()
      .from(outboxMessages)
      .where(isNull(outboxMessages.deliveredAt))
      .orderBy(asc(outboxMessages.createdAt), asc(outboxMessages.id))
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  /** Handed to webhook delivery (fanned out into one delivery per endpoint), in the same transaction. */
  async markDelivered(tx: Executor, ids: string[], at: Date): Promise<void> {
    if (ids.length > 0) await tx.update(outboxMessages).set({ deliveredAt: at }).where(inArray(outboxMessages.id, ids));
  }

  /** Removes messages delivered before the cutoff; undelivered ones stay, however old. */
  async purgeDeliveredBefore(cutoff: Date): Promise<number> {
    const result = await this.db.delete(outboxMessages).where(and(isNotNull(outboxMessages.deliveredAt), lt(outboxMessages.deliveredAt, cutoff)));
    return result.rowCount ?? 0;
  }
}
