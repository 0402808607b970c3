import type { PresetCode } from './plans.repository';

/**
 * Test prices for the paid presets, at their default price: in development with STRIPE_API_BASE
 * set, presets without a Stripe price get these at boot, and `npm run stripe:dev` knows them.
 */
export const DEV_STRIPE_PRICES: readonly { code: PresetCode; id: string; unitAmount: number; currency: string; recurring: { interval: 'month' | 'year' } }[] = [
  { code: 'ENTRY_MONTHLY', id: 'price_devEntryMonthly', unitAmount: 900, currency: 'usd', recurring: { interval: 'month' } },
  { code: 'ENTRY_YEARLY', id: 'price_devEntryYearly', unitAmount: 9000, currency: 'usd', recurring: { interval: 'year' } },
  { code: 'PREMIUM_MONTHLY', id: 'price_devPremiumMonthly', unitAmount: 4900, currency: 'usd', recurring: { interval: 'month' } },
  { code: 'PREMIUM_YEARLY', id: 'price_devPremiumYearly', unitAmount: 49000, currency: 'usd', recurring: { interval: 'year' } },
];
