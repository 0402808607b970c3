import type { Activation, BillingResult, InvoiceFacts, SubscriptionFacts } from '../subscriptions/subscription-billing.service';

/** Which order a payment names: its id when the payment carries it, else the provider's payment id. */
export interface OrderRef {
  id?: string;
  paymentIntentId?: string;
}

/** A hosted checkout of an order, as the provider reports it settled or failed. */
export interface OrderCheckout {
  sessionId: string;
  /** The order the session names (the buyer may set it: checked against the order's own session). */
  orderId: string | undefined;
  paid: boolean;
  amountTotalMinor: number | null;
  /** ISO 4217 as the provider writes it (lower case at Stripe). */
  currency: string | null;
  paymentIntentId: string | null;
}

/**
 * What a payment event means to Gatehouse, whichever provider sent it. The adapter's parser maps
 * its own event types onto these; anything else is not one of them and is only recorded.
 */
export type PaymentEvent =
  | { type: 'order.checkout_paid'; checkout: OrderCheckout }
  | { type: 'order.checkout_failed'; checkout: OrderCheckout }
  | { type: 'order.payment_failed'; order: OrderRef; paymentIntentId: string }
  | { type: 'order.refunded'; order: OrderRef; amountRefundedMinor: number; amountMinor: number }
  | { type: 'order.dispute_opened'; paymentIntentId: string | undefined; disputeId: string; reason: string; amountMinor: number }
  | { type: 'order.dispute_closed'; paymentIntentId: string | undefined; disputeId: string; status: string }
  | { type: 'subscription.activated'; facts: Activation }
  | { type: 'subscription.renewed'; facts: InvoiceFacts }
  | { type: 'subscription.past_due'; facts: InvoiceFacts }
  | { type: 'subscription.updated'; facts: SubscriptionFacts }
  | { type: 'subscription.cancelled'; facts: SubscriptionFacts }
  /** One of the events acted on, but this one changes nothing (a session not paid yet, an invoice without a subscription). */
  | { type: 'no_effect' };

/** A verified event: its provider's id and type (stored as received), its JSON text, and what it means. */
export interface ReceivedEvent {
  id: string;
  providerType: string;
  /** The event's JSON text as received, stored without serialising it again. */
  payload: string;
  /** The same, parsed. */
  body: unknown;
  /** Undefined: a type nothing here acts on; it is acknowledged and recorded as IGNORED. */
  event: PaymentEvent | undefined;
}

/** What applying an event did, stored on its row; the refusals name what did not match. */
export type EventOutcome = 'APPLIED' | 'IGNORED' | 'SESSION_MISMATCH' | 'AMOUNT_MISMATCH' | 'CURRENCY_MISMATCH' | BillingResult['outcome'];

/** For the `default` of an exhaustive switch: a new case that is not handled does not compile. */
export function assertUnreachable(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
