import { EventEmitter } from 'node:events';
import { Global, Injectable, Module } from '@nestjs/common';

export interface DomainEventMap {
  /** A user's role or status changed: caches holding its rights must drop them. */
  'user.access-changed': { userId: string };
  /** Logins ended (logout, reuse, password reset): one, or every one of the user without `sessionId`. */
  'user.sessions-revoked': { userId: string; sessionId?: string };
  /** API keys were revoked outside the keys module (with a leaked login, or a reclaimed account): caches must drop them. */
  'api-keys.revoked': { keyIds: string[] };
  /** A subscription is locked to be changed: cached plans of its owner must be read again. */
  'subscription.changing': { userId: string };
  /** An ADMIN changed a preset plan's terms. */
  'plan.changed': { code: string };
  /** A webhook endpoint was created, changed or removed: who subscribes to what may differ. */
  'webhook-endpoints.changed': { endpointId: string };
}

/** In-process domain events, for what must react at once on this instance (cache invalidation). */
@Injectable()
export class DomainEvents {
  private readonly emitter = new EventEmitter();

  emit<K extends keyof DomainEventMap>(name: K, payload: DomainEventMap[K]): void {
    this.emitter.emit(name, payload);
  }

  on<K extends keyof DomainEventMap>(name: K, listener: (payload: DomainEventMap[K]) => void): void {
    this.emitter.on(name, listener);
  }
}

@Global()
@Module({ providers: [DomainEvents], exports: [DomainEvents] })
export class EventsModule {}
