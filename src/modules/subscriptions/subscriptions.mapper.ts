import type { Language } from '../../common/i18n/language';
import { iso, isoOrNull } from '../../common/iso';
import { formatMoney } from '../../common/money/money';
import type { PlanDuration } from '../../db/schema/subscriptions';
import type { PlanRow } from './plans.repository';
import { SubscriptionReading, termsOf } from './subscription-terms.service';

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

/** The subscription as it reads now (SubscriptionTermsService.asOf); without a row, it is NONE with no period. */
export function toSubscriptionView(owner: { accountId: string | null; userId: string }, reading: SubscriptionReading, lang: Language) {
  const { plan, terms, subscription } = reading;
  const planTerms = { planCode: plan.code, plan: plan.code, planName: planName(plan, lang), ...terms };
  if (!subscription) {
    return { ...owner, ...planTerms, status: 'NONE' as const, currentPeriodStart: null, currentPeriodEnd: null, expiresAt: null, cancelAtPeriodEnd: false };
  }
  return {
    ...owner,
    ...planTerms,
    status: subscription.status,
    currentPeriodStart: iso(subscription.currentPeriodStart),
    currentPeriodEnd: isoOrNull(subscription.currentPeriodEnd),
    expiresAt: isoOrNull(subscription.expiresAt),
    cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
  };
}

export type SubscriptionView = ReturnType<typeof toSubscriptionView>;
