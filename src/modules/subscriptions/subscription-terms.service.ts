import { Injectable } from '@nestjs/common';
import type { Transaction } from '../../db/database';
import type { PlanTerms } from '../../db/schema/subscriptions';
import { PlanRow, PlansRepository } from './plans.repository';
import { CurrentSubscription, SubscriptionChanges, SubscriptionRow, SubscriptionSnapshotRow, SubscriptionsRepository } from './subscriptions.repository';

/** A user's account and subscription as last read, to be judged against the clock by `standingAt`. */
export type SubscriptionSnapshot = SubscriptionSnapshotRow;

/** The NONE plan (the free tier), whose current terms apply to every user on NONE. */
export type NonePlan = PlanRow;

/**
 * What an account's subscription reads as at one moment, for its view: the plan it is on, the
 * terms in force, and its row (null when the account has none, which reads as NONE).
 */
export interface SubscriptionReading {
  plan: PlanRow;
  terms: PlanTerms;
  subscription: SubscriptionRow | null;
}

/** A user's plan in force at one moment, and the period its terms were snapshotted for. */
export interface Standing {
  accountId: string | null;
  plan: PlanRow['code'];
  /** On the free tier: its terms are the NONE plan's current ones, and it has no period of its own. */
  onNone: boolean;
  /** On NONE because a payment failed and the grace period ended. */
  pastDue: boolean;
  terms: PlanTerms;
  /** Null on NONE. */
  periodStart: Date | null;
  periodEnd: Date | null;
}

/** Stripe statuses after which a Stripe subscription never bills again. */
export const ENDED_STRIPE_STATUSES: ReadonlySet<string> = new Set(['canceled', 'incomplete_expired']);

/** Stripe statuses of a subscription whose payment failed and that Stripe still retries. */
const UNPAID_STRIPE_STATUSES: ReadonlySet<string> = new Set(['past_due', 'unpaid']);

/**
 * Whether Stripe may still bill this account: a Stripe subscription is attached and has not ended,
 * whatever plan the row reads now (a lapsed grace period reads NONE while Stripe keeps retrying).
 */
export const hasLiveStripeSubscription = (row: { stripeSubscriptionId: string | null; stripeStatus: string | null }) =>
  row.stripeSubscriptionId !== null && !ENDED_STRIPE_STATUSES.has(row.stripeStatus ?? '');

/** What a subscription snapshots from its plan when a period starts. */
export function termsOf(plan: PlanRow): PlanTerms {
  return {
    limitResetPeriod: plan.limitResetPeriod,
    geoScope: plan.geoScope,
    limits: plan.limits,
    rateLimit: plan.rateLimitCount && plan.rateLimitWindowSeconds ? { count: plan.rateLimitCount, windowSeconds: plan.rateLimitWindowSeconds } : null,
  };
}

/** Its term ended without renewal: it reads as NONE from then on, whether or not the sweep has recorded it yet. */
export const isLapsed = (subscription: SubscriptionRow, now: Date) => subscription.expiresAt !== null && subscription.expiresAt <= now;

/**
 * What a lapsed subscription becomes, from the moment its term ended: the view shows this at once
 * and the expiry sweep writes exactly this, so reads before and after the sweep agree.
 */
export function lapsedState(subscription: SubscriptionRow, nonePlan: PlanRow) {
  return {
    planId: nonePlan.id,
    status: subscription.cancelAtPeriodEnd ? 'CANCELED' : 'NONE',
    currentPeriodStart: subscription.expiresAt ?? subscription.currentPeriodStart,
    currentPeriodEnd: null,
    expiresAt: null,
    cancelAtPeriodEnd: false,
    terms: termsOf(nonePlan),
  } satisfies SubscriptionChanges;
}

/** The row as it reads at `now`: once its term ended, with `lapsedState` over it. */
function readAt(subscription: SubscriptionRow, nonePlan: PlanRow, now: Date): SubscriptionRow {
  return isLapsed(subscription, now) ? { ...subscription, ...lapsedState(subscription, nonePlan) } : subscription;
}

/**
 * Which plan a subscription is on at a moment: a term that ended reads as NONE before the expiry
 * sweep records it. For metering: one read (`snapshotOf`, which metering caches with the NONE
 * plan) and the rule applied on every call (`standingAt`), so a term that ends is seen at once.
 */
@Injectable()
export class SubscriptionTermsService {
  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly plans: PlansRepository,
  ) {}

  snapshotOf(userId: string): Promise<SubscriptionSnapshot> {
    return this.subscriptions.snapshotOf(userId);
  }

  async nonePlan(tx?: Transaction): Promise<NonePlan> {
    const plan = tx ? await this.plans.findPresetIn(tx, 'NONE') : await this.plans.findPreset('NONE');
    // The migration makes it on every database; without it nothing here can work.
    if (!plan) throw new Error('The NONE plan is missing: run the migrations');
    return plan;
  }

  /**
   * The subscription as it reads at `now`: a lapsed term is on NONE from when it ended, and an
   * account without a row, or on NONE, has the NONE plan's current terms (the free tier has no
   * period to keep a snapshot for); any other plan, its snapshot.
   */
  asOf(current: CurrentSubscription | null | undefined, nonePlan: NonePlan, now: Date): SubscriptionReading {
    if (!current) return { plan: nonePlan, terms: termsOf(nonePlan), subscription: null };
    const subscription = readAt(current.subscription, nonePlan, now);
    if (subscription.planId === nonePlan.id) return { plan: nonePlan, terms: termsOf(nonePlan), subscription };
    return { plan: current.plan, terms: subscription.terms, subscription };
  }

  /** The view's rule (a lapsed term reads as NONE, NONE has its plan's current terms), at `now`. */
  standingAt(snapshot: SubscriptionSnapshot, nonePlan: NonePlan, now: Date): Standing {
    const stored = snapshot.subscription;
    const none = { accountId: snapshot.accountId, plan: nonePlan.code, onNone: true, terms: termsOf(nonePlan), periodStart: null, periodEnd: null };
    if (!stored || !snapshot.planCode) return { ...none, pastDue: false };
    const subscription = readAt(stored, nonePlan, now);
    if (subscription.planId === nonePlan.id) {
      const unpaid =
        (isLapsed(stored, now) && stored.status === 'PAST_DUE') || (hasLiveStripeSubscription(stored) && UNPAID_STRIPE_STATUSES.has(stored.stripeStatus ?? ''));
      return { ...none, pastDue: unpaid };
    }
    return {
      accountId: snapshot.accountId,
      plan: snapshot.planCode,
      onNone: false,
      pastDue: false,
      terms: subscription.terms,
      periodStart: subscription.currentPeriodStart,
      periodEnd: subscription.currentPeriodEnd ?? subscription.expiresAt,
    };
  }
}
