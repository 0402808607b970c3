import type Stripe from 'stripe';
import type { Activation, InvoiceFacts, SubscriptionFacts } from '../subscriptions/subscription-billing.service';

/**
 * Stripe's subscription objects read into the few facts billing needs. Both shapes are read:
 * API versions before 2025-03-31 keep the subscription id on the invoice and the period on the
 * subscription; later ones under `parent.subscription_details` and on the subscription's items.
 */

type Expandable = string | { id: string } | null | undefined;
const idOf = (value: Expandable): string | null => (typeof value === 'string' ? value : (value?.id ?? null));
const fromUnix = (seconds: number | null | undefined): Date | null => (typeof seconds === 'number' ? new Date(seconds * 1000) : null);

export function activationOf(session: Stripe.Checkout.Session, created: number): Activation | undefined {
  const stripeSubscriptionId = idOf(session.subscription);
  // `unpaid`: an async payment method has not settled; async_payment_succeeded brings it paid.
  if (!stripeSubscriptionId || session.payment_status === 'unpaid') return undefined;
  return {
    stripeSubscriptionId,
    stripeCustomerId: idOf(session.customer),
    eventCreated: new Date(created * 1000),
    accountId: session.client_reference_id,
    planCode: session.metadata?.planCode,
  };
}

type LegacyInvoice = Stripe.Invoice & { subscription?: Expandable };
type InvoiceLine = Stripe.InvoiceLineItem & { price?: { id: string } | null };

export function invoiceOf(invoice: LegacyInvoice, created: number): InvoiceFacts | undefined {
  const stripeSubscriptionId = idOf(invoice.parent?.subscription_details?.subscription) ?? idOf(invoice.subscription);
  const line: InvoiceLine | undefined = invoice.lines?.data?.[0];
  const periodStart = fromUnix(line?.period?.start);
  const periodEnd = fromUnix(line?.period?.end);
  if (!invoice.id || !stripeSubscriptionId || !periodStart || !periodEnd) return undefined;
  return {
    stripeSubscriptionId,
    stripeCustomerId: idOf(invoice.customer),
    eventCreated: new Date(created * 1000),
    invoiceId: invoice.id,
    priceId: line?.pricing?.price_details?.price ? idOf(line.pricing.price_details.price) : idOf(line?.price),
    periodStart,
    periodEnd,
    amountPaid: invoice.amount_paid,
    currency: invoice.currency,
  };
}

type LegacySubscription = Stripe.Subscription & { current_period_start?: number; current_period_end?: number };

export function subscriptionFactsOf(subscription: LegacySubscription, created: number): SubscriptionFacts {
  const item = subscription.items?.data?.[0];
  return {
    stripeSubscriptionId: subscription.id,
    stripeCustomerId: idOf(subscription.customer),
    eventCreated: new Date(created * 1000),
    status: subscription.status,
    priceId: item?.price?.id ?? null,
    cancelAtPeriodEnd: subscription.cancel_at_period_end ?? false,
    periodStart: fromUnix(item?.current_period_start ?? subscription.current_period_start),
    periodEnd: fromUnix(item?.current_period_end ?? subscription.current_period_end),
  };
}
