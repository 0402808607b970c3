import type { OutboxEventType } from './outbox.events';

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
