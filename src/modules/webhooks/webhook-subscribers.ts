import { Injectable } from '@nestjs/common';
import { StaleBoundedCache } from '../../common/cache/stale-bounded-cache';
import { DomainEvents } from '../../common/events';
import { EVENT_SUBSCRIBERS_STALE_MS, EventSubscribers } from '../outbox/event-subscribers';
import type { OutboxEventType } from '../outbox/outbox.events';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';

/**
 * EventSubscribers from the enabled endpoints, per event type, cached EVENT_SUBSCRIBERS_STALE_MS.
 * An endpoint created, changed or removed on this instance, or a user's role changing (an `all`
 * endpoint hears everyone only while its owner is an ADMIN), drops the cache at once.
 */
@Injectable()
export class WebhookSubscribers extends EventSubscribers {
  private readonly cache = new StaleBoundedCache<OutboxEventType, { everyone: boolean; owners: Set<string> }>({
    ttlMs: EVENT_SUBSCRIBERS_STALE_MS,
    maxEntries: 100,
  });

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    events: DomainEvents,
  ) {
    super();
    const forgetAll = () => this.cache.clear();
    events.on('webhook-endpoints.changed', forgetAll);
    events.on('user.access-changed', forgetAll);
  }

  async wants(type: OutboxEventType, userId: string): Promise<boolean> {
    const subscribers = await this.cache.get(type, () => this.deliveries.subscribersOf(type));
    return subscribers.everyone || subscribers.owners.has(userId);
  }
}
