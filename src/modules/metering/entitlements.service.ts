import { Injectable } from '@nestjs/common';
import { TtlCache } from '../../common/cache/ttl-cache';
import { Clock } from '../../common/clock';
import { DomainEvents } from '../../common/events';
import { PlanRow } from '../subscriptions/plans.repository';
import { SubscriptionChangesService } from '../subscriptions/subscription-changes.service';
import { Entitlement, entitlementAt } from '../subscriptions/subscriptions.mapper';
import { EntitlementRow, SubscriptionsRepository } from '../subscriptions/subscriptions.repository';

/**
 * How long a user's plan (and the free tier's terms) is trusted without asking the database: the
 * most another instance can lag behind a plan change. This instance forgets at once. Expiry needs
 * no invalidation: a lapsed term is judged against the clock on every call.
 */
export const ENTITLEMENT_CACHE_TTL_MS = 5_000;

/** What each user may do now, read on every metered call and every rate-limited authenticated request. */
@Injectable()
export class EntitlementsService {
  private readonly rows: TtlCache<string, EntitlementRow>;
  private readonly nonePlan: TtlCache<'NONE', PlanRow>;

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly changes: SubscriptionChangesService,
    private readonly clock: Clock,
    events: DomainEvents,
  ) {
    this.rows = new TtlCache(clock, { ttlMs: ENTITLEMENT_CACHE_TTL_MS, maxEntries: 50_000 });
    this.nonePlan = new TtlCache(clock, { ttlMs: ENTITLEMENT_CACHE_TTL_MS, maxEntries: 1 });
    events.on('subscription.changing', ({ userId }) => this.rows.forget(userId));
    events.on('plan.changed', () => this.nonePlan.forget('NONE'));
  }

  async of(userId: string): Promise<Entitlement> {
    const row = this.rows.peek(userId);
    const nonePlan = this.nonePlan.peek('NONE');
    // Both cached (the usual case): no promise to wait for.
    if (row && nonePlan) return entitlementAt(userId, row.value, nonePlan.value, this.clock.now());
    const [rowValue, nonePlanValue] = await Promise.all([
      row ? row.value : this.rows.load(userId, () => this.subscriptions.entitlementOf(userId)),
      nonePlan ? nonePlan.value : this.nonePlan.load('NONE', () => this.changes.nonePlan()),
    ]);
    return entitlementAt(userId, rowValue, nonePlanValue, this.clock.now());
  }
}
