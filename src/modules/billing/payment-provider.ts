import type { ReceivedEvent } from './payment-events';

/** One request's time with the provider: every call it makes ends by one deadline. */
export interface PaymentDeadline {
  remainingMs(): number;
}

/** A price the provider knows by id, or one priced here. */
export type CheckoutLine = { priceId: string; quantity: number } | { name: string; unitAmountMinor: number; currency: string; quantity: number };

/** A hosted checkout page: a one-off payment or a subscription, in Gatehouse's terms. */
export interface CheckoutSessionRequest {
  mode: 'payment' | 'subscription';
  /** What the session settles (an order id, an account id); its events name it back. */
  reference: string;
  /** The buyer's e-mail, or the account's customer at the provider. */
  customer: { email: string } | { customerId: string };
  lines: CheckoutLine[];
  metadata: Record<string, string>;
  /** Copied onto what the session creates (the payment, or the subscription), so its own events carry it. */
  carriedMetadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
}

export interface OpenedCheckoutSession {
  id: string;
  url: string;
  /** When the provider stops accepting payment; null when it did not say. */
  expiresAt: Date | null;
}

export type CheckoutSessionStatus = 'open' | 'complete' | 'expired';

/**
 * The payment provider, as Gatehouse uses it. The Stripe adapter is the only implementation; its
 * types stay behind it. Calls that reach the provider take a deadline from `startDeadline()` and
 * fail as DomainErrors (SERVICE_UNAVAILABLE with Retry-After, or UPSTREAM_FAILED).
 */
export interface PaymentProvider {
  /** False when no API key is configured: checkouts answer 503. */
  readonly configured: boolean;
  startDeadline(): PaymentDeadline;
  /** `idempotencyKey`: the same key on every attempt, so a retry opens no second session. */
  createCheckoutSession(deadline: PaymentDeadline, request: CheckoutSessionRequest, idempotencyKey: string): Promise<OpenedCheckoutSession>;
  checkoutSessionStatus(deadline: PaymentDeadline, sessionId: string): Promise<CheckoutSessionStatus | null>;
  expireCheckoutSession(deadline: PaymentDeadline, sessionId: string): Promise<void>;
  createCustomer(deadline: PaymentDeadline, customer: { email: string; metadata: Record<string, string> }, idempotencyKey: string): Promise<string>;
  cancelSubscriptionAtPeriodEnd(deadline: PaymentDeadline, subscriptionId: string): Promise<void>;
  /** The event, once its signature verifies; INVALID_SIGNATURE otherwise. */
  parseEvent(rawBody: string | undefined, signature: string | undefined): ReceivedEvent;
}

export const PAYMENT_PROVIDER = Symbol('PAYMENT_PROVIDER');
