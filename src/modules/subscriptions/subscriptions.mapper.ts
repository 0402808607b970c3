import type { Language } from '../../common/i18n/language';
import { iso, isoOrNull } from '../../common/iso';
import { formatMoney } from '../../common/money/money';
import type { PlanDuration } from '../../db/schema/subscriptions';
import type { PlanRow } from './plans.repository';
import { termsOf } from './subscription-terms.service';
import type { CurrentSubscription } from './subscriptions.repository';

export const planName = (plan: PlanRow, lang: Language) => plan.name[lang] || plan.name.en;

export function durationOf(plan: PlanRow): PlanDuration | null {
  return plan.durationUnit && plan.durationCount ? { unit: plan.durationUnit, count: plan.durationCount } : null;
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
 * The subscription as it reads now (`current` after SubscriptionTermsService.asOf): an account
 * without a row, or on NONE, has the NONE plan's current terms (the free tier has no period to
 * keep them for); any other plan, its snapshot.
 */
export function toSubscriptionView(
  owner: { accountId: string | null; userId: string },
  current: CurrentSubscription | null | undefined,
  nonePlan: PlanRow,
  lang: Language,
) {
  const none = { planCode: nonePlan.code, plan: nonePlan.code, planName: planName(nonePlan, lang), ...termsOf(nonePlan) };
  if (!current) {
    return { ...owner, ...none, status: 'NONE' as const, currentPeriodStart: null, currentPeriodEnd: null, expiresAt: null, cancelAtPeriodEnd: false };
  }
  const { subscription } = current;
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
