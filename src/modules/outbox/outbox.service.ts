import { Injectable } from '@nestjs/common';
import type { Executor, Transaction } from '../../db/database';
import type { OutboxEvent, OutboxEventType } from './outbox.events';
import { OutboxRepository, OutboxRow } from './outbox.repository';

export type { OutboxRow };

/**
 * The outbox as other modules see it. Every step runs in the caller's transaction: an event commits
 * with the change it reports, and a message is marked handed over with the deliveries made from it.
 */
@Injectable()
export class OutboxService {
  constructor(private readonly outbox: OutboxRepository) {}

  /** The one way an event enters the outbox. */
  append(tx: Executor, event: OutboxEvent): Promise<void> {
    return this.outbox.append(tx, event);
  }

  /** `append` for several events of one change (an order's licenses), in one statement. */
  appendAll(tx: Executor, events: OutboxEvent[]): Promise<void> {
    return this.outbox.appendAll(tx, events);
  }

  /** The oldest messages not yet handed to webhook delivery, locked (SKIP LOCKED) for the caller's transaction. */
  claimUndelivered(tx: Transaction, limit: number): Promise<OutboxRow[]> {
    return this.outbox.claimUndelivered(tx, limit);
  }

  /** Handed to webhook delivery, in the transaction that made the deliveries. */
  markDelivered(tx: Executor, ids: string[], at: Date): Promise<void> {
    return this.outbox.markDelivered(tx, ids, at);
  }
}

/**
 * Whether anyone would receive an event: asked before appending a high-volume event that is
 * worth writing only for its subscribers (`license.validated`). Implemented by the webhooks
 * module, which knows the endpoints; the answer may be stale by EVENT_SUBSCRIBERS_STALE_MS on
 * other instances (this one hears of its own endpoint changes at once).
 */
export abstract class EventSubscribers {
  abstract wants(type: OutboxEventType, userId: string): Promise<boolean>;
}

/** How late another instance may notice a new or re-enabled endpoint of a type asked through EventSubscribers. */
export const EVENT_SUBSCRIBERS_STALE_MS = 5_000;
