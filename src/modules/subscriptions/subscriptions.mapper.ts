import type { Language } from '../../common/i18n/language';
import { iso, isoOrNull } from '../../common/iso';
import { formatMoney } from '../../common/money/money';
import type { PlanDuration, PlanTerms } from '../../db/schema/subscriptions';
import type { PlanRow } from './plans.repository';
import { hasLiveStripeSubscription } from '../../db/schema/subscriptions';
import type { CurrentSubscription, EntitlementRow, SubscriptionChanges, SubscriptionRow } from './subscriptions.repository';

export const planName = (plan: PlanRow, lang: Language) => plan.name[lang] || plan.name.en;

export function durationOf(plan: PlanRow): PlanDuration | null {
  return plan.durationUnit && plan.durationCount ? { unit: plan.durationUnit, count: plan.durationCount } : null;
}

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

export function toPlanView(plan: PlanRow, lang: Language) {
  return {
    code: plan.code,
    name: planName(plan, lang),
    duration: durationOf(plan),
    ...termsOf(plan),
    price: formatMoney(plan.priceMinor),
    currency: plan.currency,
    stripePriceId: plan.stripePriceId,
  };
}

/**
 * The subscription as it is at `now`: an account without a row, or on NONE, has the NONE plan's
 * current terms (the free tier has no period to keep them for); any other plan, its snapshot.
 */
export function toSubscriptionView(
  owner: { accountId: string | null; userId: string },
  current: CurrentSubscription | null | undefined,
  nonePlan: PlanRow,
  now: Date,
  lang: Language,
) {
  const none = { planCode: nonePlan.code, plan: nonePlan.code, planName: planName(nonePlan, lang), ...termsOf(nonePlan) };
  if (!current) {
    return { ...owner, ...none, status: 'NONE' as const, currentPeriodStart: null, currentPeriodEnd: null, expiresAt: null, cancelAtPeriodEnd: false };
  }
  const subscription = isLapsed(current.subscription, now) ? { ...current.subscription, ...lapsedState(current.subscription, nonePlan) } : current.subscription;
  const onNone = subscription.planId === nonePlan.id;
  return {
    ...owner,
    ...(onNone ? none : { planCode: current.plan.code, plan: current.plan.code, planName: planName(current.plan, lang), ...subscription.terms }),
    status: subscription.status,
    currentPeriodStart: iso(subscription.currentPeriodStart),
    currentPeriodEnd: isoOrNull(subscription.currentPeriodEnd),
    expiresAt: isoOrNull(subscription.expiresAt),
    cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
  };
}

export type SubscriptionView = ReturnType<typeof toSubscriptionView>;

/** Stripe statuses of a subscription whose payment failed and that Stripe still retries. */
const UNPAID_STRIPE_STATUSES: ReadonlySet<string> = new Set(['past_due', 'unpaid']);

/** What a user may do at one moment: the plan in force, its terms, and the period its counters belong to. */
export interface Entitlement {
  userId: string;
  accountId: string | null;
  plan: PlanRow['code'];
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

/** `toSubscriptionView`'s rule (a lapsed term reads as NONE, NONE has its plan's current terms) for metering. */
export function entitlementAt(userId: string, row: EntitlementRow, nonePlan: PlanRow, now: Date): Entitlement {
  const stored = row.subscription;
  const none = { userId, accountId: row.accountId, plan: nonePlan.code, terms: termsOf(nonePlan), periodEnd: null };
  if (!stored || !row.planCode) return { ...none, pastDue: false, periodStart: FREE_TIER_PERIOD_START };
  const lapsed = isLapsed(stored, now);
  const subscription = lapsed ? { ...stored, ...lapsedState(stored, nonePlan) } : stored;
  if (subscription.planId === nonePlan.id) {
    const unpaid = (lapsed && stored.status === 'PAST_DUE') || (hasLiveStripeSubscription(stored) && UNPAID_STRIPE_STATUSES.has(stored.stripeStatus ?? ''));
    return { ...none, pastDue: unpaid, periodStart: FREE_TIER_PERIOD_START };
  }
  return {
    userId,
    accountId: row.accountId,
    plan: row.planCode,
    pastDue: false,
    terms: subscription.terms,
    periodStart: subscription.currentPeriodStart,
    periodEnd: subscription.currentPeriodEnd ?? subscription.expiresAt,
  };
}
