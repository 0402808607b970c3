import type { Language } from '../../common/i18n/language';
import { iso, isoOrNull } from '../../common/iso';
import { formatMoney } from '../../common/money/money';
import type { PlanDuration, PlanTerms } from '../../db/schema/subscriptions';
import type { PlanRow } from './plans.repository';
import type { CurrentSubscription, SubscriptionChanges, SubscriptionRow } from './subscriptions.repository';

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
  const none = { plan: nonePlan.code, planName: planName(nonePlan, lang), ...termsOf(nonePlan) };
  if (!current) {
    return { ...owner, ...none, status: 'NONE' as const, currentPeriodStart: null, currentPeriodEnd: null, expiresAt: null, cancelAtPeriodEnd: false };
  }
  const subscription = isLapsed(current.subscription, now) ? { ...current.subscription, ...lapsedState(current.subscription, nonePlan) } : current.subscription;
  const onNone = subscription.planId === nonePlan.id;
  return {
    ...owner,
    ...(onNone ? none : { plan: current.plan.code, planName: planName(current.plan, lang), ...subscription.terms }),
    status: subscription.status,
    currentPeriodStart: iso(subscription.currentPeriodStart),
    currentPeriodEnd: isoOrNull(subscription.currentPeriodEnd),
    expiresAt: isoOrNull(subscription.expiresAt),
    cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
  };
}

export type SubscriptionView = ReturnType<typeof toSubscriptionView>;
