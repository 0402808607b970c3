import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig, InjectConfig } from '../../config/config';
import type { ReceivedEvent } from './payment-events';
import type { CheckoutSessionRequest, CheckoutSessionStatus, OpenedCheckoutSession, PaymentDeadline, PaymentProvider } from './payment-provider';
import { StripeDeadline } from './stripe-deadline';
import { paymentEventOf } from './stripe-events';
import { StripeApi } from './stripe-sdk';
import { verifyStripeSignature } from './stripe-signature';

/** Stripe's signature tolerance, checked in both directions (see verifyStripeSignature). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** PaymentProvider on Stripe: Checkout Sessions, customers, subscriptions and signed events. */
@Injectable()
export class StripePaymentProvider implements PaymentProvider {
  private readonly stripe: StripeApi;

  constructor(
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.stripe = new StripeApi(config.stripe);
  }

  get configured(): boolean {
    return Boolean(this.config.stripe.secretKey);
  }

  /** Called where a request's Stripe work begins; everything after shares this deadline. */
  startDeadline(): StripeDeadline {
    return new StripeDeadline(this.config.stripe.timeoutMs, this.config.stripe.maxRetries);
  }

  async createCheckoutSession(deadline: PaymentDeadline, request: CheckoutSessionRequest, idempotencyKey: string): Promise<OpenedCheckoutSession> {
    const session = await stripeDeadline(deadline).write(
      (options) => this.stripe.call((api) => api.checkout.sessions.create(sessionParams(request), options)),
      idempotencyKey,
    );
    return { id: session.id, url: session.url ?? '', expiresAt: session.expires_at ? new Date(session.expires_at * 1000) : null };
  }

  async checkoutSessionStatus(deadline: PaymentDeadline, sessionId: string): Promise<CheckoutSessionStatus | null> {
    const session = await stripeDeadline(deadline).read((options) => this.stripe.call((api) => api.checkout.sessions.retrieve(sessionId, {}, options)));
    const status: string | null = session.status;
    return SESSION_STATUSES.find((known) => known === status) ?? null;
  }

  async expireCheckoutSession(deadline: PaymentDeadline, sessionId: string): Promise<void> {
    await stripeDeadline(deadline).write((options) => this.stripe.call((api) => api.checkout.sessions.expire(sessionId, {}, options)));
  }

  async createCustomer(deadline: PaymentDeadline, customer: { email: string; metadata: Record<string, string> }, idempotencyKey: string): Promise<string> {
    const created = await stripeDeadline(deadline).write((options) => this.stripe.call((api) => api.customers.create(customer, options)), idempotencyKey);
    return created.id;
  }

  async cancelSubscriptionAtPeriodEnd(deadline: PaymentDeadline, subscriptionId: string): Promise<void> {
    await stripeDeadline(deadline).write((options) =>
      this.stripe.call((api) => api.subscriptions.update(subscriptionId, { cancel_at_period_end: true }, options)),
    );
  }

  /**
   * The event and its JSON text, once its signature verifies (see verifyStripeSignature:
   * node:crypto, not the `stripe` package, which receiving events never needs to load).
   */
  parseEvent(rawBody: string | undefined, signature: string | undefined): ReceivedEvent {
    const secret = this.config.stripe.webhookSecret;
    if (!secret || !signature || rawBody === undefined) throw new DomainError('INVALID_SIGNATURE');
    if (!verifyStripeSignature(rawBody, signature, secret, this.clock.now().getTime(), SIGNATURE_TOLERANCE_SECONDS)) {
      throw new DomainError('INVALID_SIGNATURE');
    }
    let event: Stripe.Event;
    try {
      event = JSON.parse(rawBody) as Stripe.Event;
    } catch (error) {
      // Signed but not JSON: nothing Stripe sends; refused as the SDK refused it.
      throw new DomainError('INVALID_SIGNATURE', { cause: error });
    }
    return { id: event.id, providerType: event.type, payload: rawBody, body: event, event: paymentEventOf(event) };
  }
}

const SESSION_STATUSES: readonly CheckoutSessionStatus[] = ['open', 'complete', 'expired'];

/** Deadlines come from startDeadline(): another kind is a programming error. */
function stripeDeadline(deadline: PaymentDeadline): StripeDeadline {
  if (!(deadline instanceof StripeDeadline)) throw new TypeError('A PaymentDeadline of StripePaymentProvider.startDeadline() was expected');
  return deadline;
}

/** A Checkout Session for the request: what the session creates carries the metadata too. */
function sessionParams(request: CheckoutSessionRequest): Stripe.Checkout.SessionCreateParams {
  return {
    mode: request.mode,
    ...('customerId' in request.customer ? { customer: request.customer.customerId } : { customer_email: request.customer.email }),
    line_items: request.lines.map((line) =>
      'priceId' in line
        ? { price: line.priceId, quantity: line.quantity }
        : {
            price_data: { currency: line.currency.toLowerCase(), unit_amount: line.unitAmountMinor, product_data: { name: line.name } },
            quantity: line.quantity,
          },
    ),
    client_reference_id: request.reference,
    metadata: request.metadata,
    ...(request.mode === 'payment'
      ? { payment_intent_data: { metadata: request.carriedMetadata } }
      : { subscription_data: { metadata: request.carriedMetadata } }),
    success_url: request.successUrl,
    cancel_url: request.cancelUrl,
  };
}
