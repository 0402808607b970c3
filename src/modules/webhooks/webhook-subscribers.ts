import { Injectable } from '@nestjs/common';
import { TtlCache } from '../../common/cache/ttl-cache';
import { Clock } from '../../common/clock';
import { DomainEvents } from '../../common/events';
import { EVENT_SUBSCRIBERS_STALE_MS, EventSubscribers } from '../outbox/outbox.service';
import type { OutboxEventType } from '../outbox/outbox.events';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';

/**
 * EventSubscribers from the enabled endpoints, per event type, cached EVENT_SUBSCRIBERS_STALE_MS.
 * An endpoint created, changed or removed on this instance, or a user's role changing (an `all`
 * endpoint hears everyone only while its owner is an ADMIN), drops the cache at once.
 */
@Injectable()
export class WebhookSubscribers extends EventSubscribers {
  private readonly cache: TtlCache<OutboxEventType, { everyone: boolean; owners: Set<string> }>;

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    clock: Clock,
    events: DomainEvents,
  ) {
    super();
    this.cache = new TtlCache(clock, { ttlMs: EVENT_SUBSCRIBERS_STALE_MS, maxEntries: 100 });
    const forgetAll = () => this.cache.clear();
    events.on('webhook-endpoints.changed', forgetAll);
    events.on('user.access-changed', forgetAll);
  }

  async wants(type: OutboxEventType, userId: string): Promise<boolean> {
    const subscribers = await this.cache.get(type, () => this.deliveries.subscribersOf(type));
    return subscribers.everyone || subscribers.owners.has(userId);
  }
}
