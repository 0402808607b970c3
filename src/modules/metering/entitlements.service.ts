import { Injectable } from '@nestjs/common';
import { TtlCache } from '../../common/cache/ttl-cache';
import { Clock } from '../../common/clock';
import { DomainEvents } from '../../common/events';
import type { PlanTerms } from '../../db/schema/subscriptions';
import { NonePlan, SubscriptionSnapshot, SubscriptionTermsService } from '../subscriptions/subscription-terms.service';

/**
 * How long a user's plan (and the free tier's terms) is trusted without asking the database: the
 * most another instance can lag behind a plan change. This instance forgets at once. Expiry needs
 * no invalidation: a lapsed term is judged against the clock on every call.
 */
export const ENTITLEMENT_CACHE_TTL_MS = 5_000;

/** What a user may do at one moment: the plan in force, its terms, and the period its counters belong to. */
export interface Entitlement {
  userId: string;
  accountId: string | null;
  plan: NonePlan['code'];
  /** On NONE because a payment failed and the grace period ended (the refusal says PAST_DUE, not SUBSCRIPTION_REQUIRED). */
  pastDue: boolean;
  terms: PlanTerms;
  periodStart: Date;
  periodEnd: Date | null;
}

/**
 * The period every free-tier counter belongs to: a fixed one, so no change that lands on NONE
 * (a cancel, an abandoned checkout making the account's row) starts the free tier's day again.
 */
const FREE_TIER_PERIOD_START = new Date(0);

/** What each user may do now, read on every metered call and every rate-limited authenticated request. */
@Injectable()
export class EntitlementsService {
  private readonly snapshots: TtlCache<string, SubscriptionSnapshot>;
  private readonly nonePlan: TtlCache<'NONE', NonePlan>;

  constructor(
    private readonly subscriptionTerms: SubscriptionTermsService,
    private readonly clock: Clock,
    events: DomainEvents,
  ) {
    this.snapshots = new TtlCache(clock, { ttlMs: ENTITLEMENT_CACHE_TTL_MS, maxEntries: 50_000 });
    this.nonePlan = new TtlCache(clock, { ttlMs: ENTITLEMENT_CACHE_TTL_MS, maxEntries: 1 });
    events.on('subscription.changing', ({ userId }) => this.snapshots.forget(userId));
    events.on('plan.changed', () => this.nonePlan.forget('NONE'));
  }

  async of(userId: string): Promise<Entitlement> {
    const snapshot = this.snapshots.peek(userId);
    const nonePlan = this.nonePlan.peek('NONE');
    // Both cached (the usual case): no promise to wait for.
    if (snapshot && nonePlan) return this.entitlementAt(userId, snapshot.value, nonePlan.value);
    const [snapshotValue, nonePlanValue] = await Promise.all([
      snapshot ? snapshot.value : this.snapshots.load(userId, () => this.subscriptionTerms.snapshotOf(userId)),
      nonePlan ? nonePlan.value : this.nonePlan.load('NONE', () => this.subscriptionTerms.nonePlan()),
    ]);
    return this.entitlementAt(userId, snapshotValue, nonePlanValue);
  }

  /** As `of`, read from the database now: what a user is shown, never a cached view. */
  async fresh(userId: string): Promise<Entitlement> {
    const [snapshot, nonePlan] = await Promise.all([this.subscriptionTerms.snapshotOf(userId), this.subscriptionTerms.nonePlan()]);
    return this.entitlementAt(userId, snapshot, nonePlan);
  }

  /** The plan in force now (subscriptions' rule), with the period its counters belong to (metering's). */
  private entitlementAt(userId: string, snapshot: SubscriptionSnapshot, nonePlan: NonePlan): Entitlement {
    const standing = this.subscriptionTerms.standingAt(snapshot, nonePlan, this.clock.now());
    const { accountId, plan, pastDue, terms } = standing;
    if (standing.onNone || !standing.periodStart) return { userId, accountId, plan, pastDue, terms, periodStart: FREE_TIER_PERIOD_START, periodEnd: null };
    return { userId, accountId, plan, pastDue, terms, periodStart: standing.periodStart, periodEnd: standing.periodEnd };
  }
}
