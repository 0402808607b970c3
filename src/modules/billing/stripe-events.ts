import type Stripe from 'stripe';
import type { Activation, InvoiceFacts, SubscriptionFacts } from '../subscriptions/subscription-billing.service';
import type { OrderCheckout, PaymentEvent } from './payment-events';

/**
 * Stripe's events read into Gatehouse's PaymentEvents: the only place, with the adapter, that
 * knows Stripe's event types and objects.
 */

/** What a Stripe event means here; undefined for a type nothing acts on (it is only recorded). */
export function paymentEventOf(event: Stripe.Event): PaymentEvent | undefined {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const session = event.data.object;
      if (session.mode === 'subscription') return orNoEffect(activationOf(session, event.created), (facts) => ({ type: 'subscription.activated', facts }));
      return { type: 'order.checkout_paid', checkout: checkoutOf(session) };
    }
    case 'checkout.session.async_payment_failed':
      // A subscription's first payment failing is told by invoice.payment_failed.
      if (event.data.object.mode === 'subscription') return NO_EFFECT;
      return { type: 'order.checkout_failed', checkout: checkoutOf(event.data.object) };
    case 'invoice.paid':
      return orNoEffect(invoiceOf(event.data.object, event.created), (facts) => ({ type: 'subscription.renewed', facts }));
    case 'invoice.payment_failed':
      return orNoEffect(invoiceOf(event.data.object, event.created), (facts) => ({ type: 'subscription.past_due', facts }));
    case 'customer.subscription.updated':
      return { type: 'subscription.updated', facts: subscriptionFactsOf(event.data.object, event.created) };
    case 'customer.subscription.deleted':
      return { type: 'subscription.cancelled', facts: subscriptionFactsOf(event.data.object, event.created) };
    case 'charge.refunded': {
      const charge = event.data.object;
      const paymentIntentId = idOf(charge.payment_intent) ?? undefined;
      return {
        type: 'order.refunded',
        order: charge.metadata?.orderId ? { id: charge.metadata.orderId } : { paymentIntentId },
        amountRefundedMinor: charge.amount_refunded,
        amountMinor: charge.amount,
      };
    }
    case 'charge.dispute.created': {
      const dispute = event.data.object;
      return {
        type: 'order.dispute_opened',
        paymentIntentId: idOf(dispute.payment_intent) ?? undefined,
        disputeId: dispute.id,
        reason: dispute.reason,
        amountMinor: dispute.amount,
      };
    }
    case 'charge.dispute.closed': {
      const dispute = event.data.object;
      return { type: 'order.dispute_closed', paymentIntentId: idOf(dispute.payment_intent) ?? undefined, disputeId: dispute.id, status: dispute.status };
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      return {
        type: 'order.payment_failed',
        order: intent.metadata?.orderId ? { id: intent.metadata.orderId } : { paymentIntentId: intent.id },
        paymentIntentId: intent.id,
      };
    }
    default:
      return undefined;
  }
}

const NO_EFFECT: PaymentEvent = { type: 'no_effect' };
const orNoEffect = <T>(facts: T | undefined, event: (facts: T) => PaymentEvent): PaymentEvent => (facts === undefined ? NO_EFFECT : event(facts));

function checkoutOf(session: Stripe.Checkout.Session): OrderCheckout {
  return {
    sessionId: session.id,
    orderId: session.client_reference_id ?? session.metadata?.orderId,
    paid: session.payment_status === 'paid',
    amountTotalMinor: session.amount_total,
    currency: session.currency,
    paymentIntentId: idOf(session.payment_intent),
  };
}

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
