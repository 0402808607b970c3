import { Injectable, Logger } from '@nestjs/common';
import type Stripe from 'stripe';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { MailParams, MailService } from '../../common/mail/mail.service';
import { AppConfig, InjectConfig } from '../../config/config';
import type { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { newLicense } from '../licenses/license-key';
import { LicensesRepository } from '../licenses/licenses.repository';
import { OrderRow, OrdersRepository } from '../orders/orders.repository';
import { OutboxRepository } from '../outbox/outbox.repository';
import { ProductsRepository } from '../products/products.repository';
import { BillingResult, SubscriptionBillingService } from '../subscriptions/subscription-billing.service';
import { planName } from '../subscriptions/subscriptions.mapper';
import { fullName } from '../users/users.mapper';
import { UsersRepository } from '../users/users.repository';
import { activationOf, invoiceOf, subscriptionFactsOf } from './stripe-billing-events';
import { StripeEventsRepository } from './stripe-events.repository';
import { verifyStripeSignature } from './stripe-signature';
import { licenseStatusEvents } from '../licenses/licenses.service';

/** Stripe's signature tolerance, checked in both directions (see verifyStripeSignature). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** What an event did, stored on its `stripe_events` row; the refusals name what did not match. */
type Outcome = 'APPLIED' | 'IGNORED' | 'SESSION_MISMATCH' | 'AMOUNT_MISMATCH' | 'CURRENCY_MISMATCH' | BillingResult['outcome'];

interface Applied {
  outcome: Outcome;
}

const APPLIED: Applied = { outcome: 'APPLIED' };
/** The types `apply` acts on (each a case of its switch); any other is stored as IGNORED without a transaction. */
const APPLIED_TYPES: ReadonlySet<string> = new Set<Stripe.Event['type']>([
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'invoice.paid',
  'invoice.payment_failed',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
  'payment_intent.payment_failed',
]);
const IGNORED: Applied = { outcome: 'IGNORED' };

@Injectable()
export class StripeWebhooksService {
  private readonly logger = new Logger('StripeWebhooks');

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly stripeEvents: StripeEventsRepository,
    private readonly orders: OrdersRepository,
    private readonly licenses: LicensesRepository,
    private readonly products: ProductsRepository,
    private readonly outbox: OutboxRepository,
    private readonly users: UsersRepository,
    private readonly billing: SubscriptionBillingService,
    private readonly mail: MailService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Verifies, stores once and applies an event in one transaction, with the mails it queues.
   * A redelivery, concurrent or later, finds the stored row and changes nothing; a failure rolls
   * both back, so Stripe retries. The row keeps what applying it did, refusals included.
   */
  async receive(rawBody: string | undefined, signature: string | undefined): Promise<{ received: true }> {
    const { event, payload } = this.verify(rawBody, signature);
    if (!APPLIED_TYPES.has(event.type)) {
      // Most of what Stripe sends changes nothing here: one statement, no transaction.
      await this.stripeEvents.insertIgnored({ id: event.id, type: event.type, payload });
      return { received: true };
    }
    await this.transactions.run(async (tx) => {
      if (!(await this.stripeEvents.insertOnce(tx, { id: event.id, type: event.type, payload: event }))) return;
      const result = await this.apply(tx, event);
      await this.stripeEvents.setOutcome(tx, event.id, result.outcome);
    });
    return { received: true };
  }

  /**
   * The event and its JSON text, once its signature verifies (see verifyStripeSignature:
   * node:crypto, not the `stripe` package, which receiving events never needs to load).
   */
  private verify(rawBody: string | undefined, signature: string | undefined): { event: Stripe.Event; payload: string } {
    const secret = this.config.stripe.webhookSecret;
    if (!secret || !signature || rawBody === undefined) throw new DomainError('INVALID_SIGNATURE');
    if (!verifyStripeSignature(rawBody, signature, secret, this.clock.now().getTime(), SIGNATURE_TOLERANCE_SECONDS)) {
      throw new DomainError('INVALID_SIGNATURE');
    }
    try {
      return { event: JSON.parse(rawBody) as Stripe.Event, payload: rawBody };
    } catch (error) {
      // Signed but not JSON: nothing Stripe sends; refused as the SDK refused it.
      throw new DomainError('INVALID_SIGNATURE', { cause: error });
    }
  }

  private apply(tx: Transaction, event: Stripe.Event): Promise<Applied> {
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
        if (event.data.object.mode === 'subscription')
          return this.subscriptionEvent(tx, activationOf(event.data.object, event.created), (facts) => this.billing.activated(tx, facts));
        return this.sessionPaid(tx, event.id, event.data.object);
      case 'checkout.session.async_payment_failed':
        // A subscription's first payment failing is told by invoice.payment_failed.
        if (event.data.object.mode === 'subscription') return Promise.resolve(IGNORED);
        return this.sessionPaymentFailed(tx, event.id, event.data.object);
      case 'invoice.paid':
        return this.subscriptionEvent(tx, invoiceOf(event.data.object, event.created), (facts) => this.billing.renewed(tx, facts));
      case 'invoice.payment_failed':
        return this.subscriptionEvent(tx, invoiceOf(event.data.object, event.created), (facts) => this.billing.pastDue(tx, facts));
      case 'customer.subscription.updated':
        return this.subscriptionEvent(tx, subscriptionFactsOf(event.data.object, event.created), (facts) => this.billing.updated(tx, facts));
      case 'customer.subscription.deleted':
        return this.subscriptionEvent(tx, subscriptionFactsOf(event.data.object, event.created), (facts) => this.billing.cancelled(tx, facts));
      case 'charge.refunded':
        return this.chargeRefunded(tx, event.data.object);
      case 'charge.dispute.created':
        return this.disputeCreated(tx, event.data.object);
      case 'charge.dispute.closed':
        return this.disputeClosed(tx, event.data.object);
      case 'payment_intent.payment_failed':
        return this.paymentFailed(tx, event.data.object);
      default:
        // Not in APPLIED_TYPES: receive() stored it already.
        return Promise.resolve(IGNORED);
    }
  }

  /** Subscription billing, normalised by SubscriptionBillingService; a failed payment queues a mail. */
  private async subscriptionEvent<T>(tx: Transaction, facts: T | undefined, apply: (facts: T) => Promise<BillingResult>): Promise<Applied> {
    if (facts === undefined) return IGNORED;
    const { outcome, paymentFailed } = await apply(facts);
    if (!paymentFailed) return { outcome };
    const { userId, plan } = paymentFailed;
    const user = await this.users.findByIdIn(tx, userId);
    if (user) {
      const graceDays = String(this.config.subscriptions.graceDays);
      await this.mail.queue(tx, user, 'subscriptionPaymentFailed', { name: fullName(user), plan: planName(plan, user.language), graceDays });
    }
    return { outcome };
  }

  /** PAID, stock taken, one license per unit, an outbox event; the buyer gets the keys by mail. */
  private async sessionPaid(tx: Transaction, eventId: string, session: Stripe.Checkout.Session): Promise<Applied> {
    if (session.payment_status !== 'paid') return IGNORED;
    const order = await this.orders.lockOrder(tx, { id: session.client_reference_id ?? session.metadata?.orderId });
    // FAILED is not final: a declined card can be followed by a successful one in the same session.
    if (!order || (order.status !== 'PENDING' && order.status !== 'FAILED')) return IGNORED;
    const refused = this.refusal(eventId, order, session);
    if (refused) return refused;
    const now = this.clock.now();
    const keys: string[] = [];
    const rows = [];
    const shortages: string[] = [];
    for (const { item, product } of await this.orders.itemsWithProducts(tx, order.id)) {
      const missing = await this.takeStock(tx, product.id, item.quantity);
      if (missing > 0) shortages.push(`${product.id} short by ${missing}`);
      for (let unit = 0; unit < item.quantity; unit++) {
        const license = newLicense(product, { userId: order.userId, orderId: order.id }, now);
        keys.push(`${product.name}: ${license.key}`);
        rows.push(license.row);
      }
    }
    if (shortages.length > 0) this.logger.warn(`Order ${order.id} was paid for more than is in stock: ${shortages.join(', ')}`);
    const paymentIntentId = typeof session.payment_intent === 'string' ? session.payment_intent : (session.payment_intent?.id ?? null);
    await this.orders.markPaid(tx, order.id, { paymentIntentId, paidAt: now, oversold: shortages.length > 0 });
    const licenseIds = await this.licenses.insertMany(tx, rows);
    await this.outbox.append(tx, {
      type: 'checkout.session.completed',
      payload: { orderId: order.id, userId: order.userId, sessionId: session.id, amountTotal: order.amountTotalMinor, currency: order.currency, licenseIds },
    });
    await this.mailUser(tx, order.userId, 'licensesIssued', { orderId: order.id, keys: keys.join('\n') });
    return APPLIED;
  }

  /**
   * A delayed payment (a bank debit) failed after the session completed unpaid: the session is over,
   * so the order is FAILED for good. Stripe also sends payment_intent.payment_failed for it; whichever
   * comes first fails the order and tells the buyer, the other finds it no longer PENDING.
   */
  private async sessionPaymentFailed(tx: Transaction, eventId: string, session: Stripe.Checkout.Session): Promise<Applied> {
    const order = await this.orders.lockOrder(tx, { id: session.client_reference_id ?? session.metadata?.orderId });
    if (!order || order.status !== 'PENDING') return IGNORED;
    const refused = this.refusal(eventId, order, session);
    if (refused) return refused;
    await this.orders.setStatus(tx, order.id, 'FAILED');
    const paymentIntentId = typeof session.payment_intent === 'string' ? session.payment_intent : session.payment_intent?.id;
    // A completed session in payment mode always names its PaymentIntent; the event's payload requires it.
    if (paymentIntentId) {
      await this.outbox.append(tx, { type: 'payment_intent.payment_failed', payload: { orderId: order.id, userId: order.userId, paymentIntentId } });
    }
    await this.mailUser(tx, order.userId, 'paymentFailed', { orderId: order.id });
    return APPLIED;
  }

  /**
   * Only the session we created settles the order, and only for its price: a Payment Link or
   * another session naming this order (client_reference_id is the buyer's to set) does not.
   */
  private refusal(eventId: string, order: OrderRow, session: Stripe.Checkout.Session): Applied | undefined {
    const mismatch = paymentMismatch(order, session);
    if (!mismatch) return undefined;
    this.logger.warn(
      `Stripe event ${eventId} refused (${mismatch}) for order ${order.id}: session ${session.id} paid ${session.amount_total} ${session.currency}, ` +
        `order expects session ${order.stripeSessionId} and ${order.amountTotalMinor} ${order.currency}`,
    );
    return { outcome: mismatch };
  }

  /**
   * Takes sold units from counted stock, which never goes below zero; unlimited stock is left
   * alone. Returns how many units were missing (0 when there were enough).
   */
  private async takeStock(tx: Transaction, productId: string, quantity: number): Promise<number> {
    const stock = await this.products.lockStock(tx, productId);
    if (stock === undefined) return 0;
    await this.products.setStock(tx, productId, Math.max(stock - quantity, 0));
    return Math.max(quantity - stock, 0);
  }

  /** REFUNDED or PARTIALLY_REFUNDED; a full refund revokes the order's licenses. */
  private async chargeRefunded(tx: Transaction, charge: Stripe.Charge): Promise<Applied> {
    const paymentIntentId = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
    const order = await this.orders.lockOrder(tx, charge.metadata?.orderId ? { id: charge.metadata.orderId } : { paymentIntentId });
    // Refunds only grow: an older event delivered late cannot lower what is already recorded.
    if (!order || charge.amount_refunded <= order.amountRefundedMinor) return IGNORED;
    const full = charge.amount_refunded >= charge.amount;
    await this.orders.setRefund(tx, order.id, charge.amount_refunded, full ? 'REFUNDED' : 'PARTIALLY_REFUNDED');
    if (full) await this.outbox.appendAll(tx, licenseStatusEvents(await this.licenses.setStatusOfOrder(tx, order.id, 'REVOKED'), 'REFUND'));
    await this.outbox.append(tx, {
      type: 'charge.refunded',
      payload: { orderId: order.id, userId: order.userId, amountRefunded: charge.amount_refunded, full },
    });
    return APPLIED;
  }

  /** A chargeback opened: the order's licenses stop working until it is decided. */
  private async disputeCreated(tx: Transaction, dispute: Stripe.Dispute): Promise<Applied> {
    const order = await this.lockDisputedOrder(tx, dispute);
    if (!order) return IGNORED;
    await this.outbox.appendAll(tx, licenseStatusEvents(await this.licenses.setStatusOfOrder(tx, order.id, 'SUSPENDED', { from: 'ACTIVE' }), 'DISPUTE'));
    await this.outbox.append(tx, {
      type: 'charge.dispute.created',
      payload: { orderId: order.id, userId: order.userId, disputeId: dispute.id, reason: dispute.reason, amount: dispute.amount },
    });
    return APPLIED;
  }

  /** Lost: the money is gone, so are the licenses. Won (or an inquiry closed): what the dispute suspended works again. */
  private async disputeClosed(tx: Transaction, dispute: Stripe.Dispute): Promise<Applied> {
    const order = await this.lockDisputedOrder(tx, dispute);
    if (!order) return IGNORED;
    const lost = dispute.status === 'lost';
    if (lost) await this.outbox.appendAll(tx, licenseStatusEvents(await this.licenses.setStatusOfOrder(tx, order.id, 'REVOKED'), 'DISPUTE_LOST'));
    else await this.licenses.setStatusOfOrder(tx, order.id, 'ACTIVE', { from: 'SUSPENDED' });
    await this.outbox.append(tx, {
      type: 'charge.dispute.closed',
      payload: { orderId: order.id, userId: order.userId, disputeId: dispute.id, status: dispute.status, lost },
    });
    return APPLIED;
  }

  /** A dispute carries its own metadata, not the charge's; its payment intent names the order. */
  private lockDisputedOrder(tx: Transaction, dispute: Stripe.Dispute) {
    const paymentIntentId = typeof dispute.payment_intent === 'string' ? dispute.payment_intent : dispute.payment_intent?.id;
    return paymentIntentId ? this.orders.lockOrder(tx, { paymentIntentId }) : Promise.resolve(undefined);
  }

  private async paymentFailed(tx: Transaction, intent: Stripe.PaymentIntent): Promise<Applied> {
    const order = await this.orders.lockOrder(tx, intent.metadata?.orderId ? { id: intent.metadata.orderId } : { paymentIntentId: intent.id });
    if (!order || order.status !== 'PENDING') return IGNORED;
    await this.orders.setStatus(tx, order.id, 'FAILED');
    await this.outbox.append(tx, {
      type: 'payment_intent.payment_failed',
      payload: { orderId: order.id, userId: order.userId, paymentIntentId: intent.id },
    });
    await this.mailUser(tx, order.userId, 'paymentFailed', { orderId: order.id });
    return APPLIED;
  }

  private async mailUser<T extends 'licensesIssued' | 'paymentFailed'>(
    tx: Transaction,
    userId: string,
    template: T,
    params: Omit<MailParams[T], 'name'>,
  ): Promise<void> {
    const user = await this.users.findByIdIn(tx, userId);
    if (user) await this.mail.queue(tx, user, template, { name: fullName(user), ...params } as MailParams[T]);
  }
}

/** Which of the session, the amount and the currency differs from what the order was created with. */
function paymentMismatch(order: OrderRow, session: Stripe.Checkout.Session): Outcome | undefined {
  if (!order.stripeSessionId || session.id !== order.stripeSessionId) return 'SESSION_MISMATCH';
  if (session.amount_total !== order.amountTotalMinor) return 'AMOUNT_MISMATCH';
  if ((session.currency ?? '').toUpperCase() !== order.currency) return 'CURRENCY_MISMATCH';
  return undefined;
}
