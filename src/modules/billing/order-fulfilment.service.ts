import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { MailParams, MailService } from '../../common/mail/mail.service';
import type { Transaction } from '../../db/database';
import { LicensesService } from '../licenses/licenses.service';
import { OrderRow, OrdersService } from '../orders/orders.service';
import { ProductsService } from '../products/products.service';
import { UsersService } from '../users/users.service';
import type { EventOutcome, OrderCheckout, OrderRef, PaymentEvent } from './payment-events';

type EventOf<T extends PaymentEvent['type']> = Extract<PaymentEvent, { type: T }>;

/**
 * Order payment events as commands to the orders, products and licenses modules: paid (stock
 * taken, one license per unit), failed, refunded, disputed. Each runs in the event's transaction
 * with the order locked.
 */
@Injectable()
export class OrderFulfilment {
  private readonly logger = new Logger('OrderFulfilment');

  constructor(
    private readonly orders: OrdersService,
    private readonly products: ProductsService,
    private readonly licenses: LicensesService,
    private readonly users: UsersService,
    private readonly mail: MailService,
    private readonly clock: Clock,
  ) {}

  /** PAID, stock taken, one license per unit, an outbox event; the buyer gets the keys by mail. */
  async checkoutPaid(tx: Transaction, eventId: string, checkout: OrderCheckout): Promise<EventOutcome> {
    if (!checkout.paid) return 'IGNORED';
    const order = await this.orders.lockForPayment(tx, { id: checkout.orderId });
    // FAILED is not final: a declined card can be followed by a successful one in the same session.
    if (!order || (order.status !== 'PENDING' && order.status !== 'FAILED')) return 'IGNORED';
    const refused = this.refusal(eventId, order, checkout);
    if (refused) return refused;
    const now = this.clock.now();
    const lines = [];
    const shortages: string[] = [];
    for (const { item, product } of await this.orders.itemsWithProducts(tx, order.id)) {
      const missing = await this.products.takeStock(tx, product.id, item.quantity);
      if (missing > 0) shortages.push(`${product.id} short by ${missing}`);
      lines.push({ product, quantity: item.quantity });
    }
    if (shortages.length > 0) this.logger.warn(`Order ${order.id} was paid for more than is in stock: ${shortages.join(', ')}`);
    const { licenseIds, keys } = await this.licenses.issueForOrder(tx, order, lines, now);
    await this.orders.markPaid(tx, order, {
      sessionId: checkout.sessionId,
      paymentIntentId: checkout.paymentIntentId,
      paidAt: now,
      oversold: shortages.length > 0,
      licenseIds,
    });
    await this.mailUser(tx, order.userId, 'licensesIssued', { orderId: order.id, keys: keys.join('\n') });
    return 'APPLIED';
  }

  /**
   * A delayed payment (a bank debit) failed after the session completed unpaid: the session is over,
   * so the order is FAILED for good. The payment's own failure comes too; whichever comes first
   * fails the order and tells the buyer, the other finds it no longer PENDING.
   */
  async checkoutFailed(tx: Transaction, eventId: string, checkout: OrderCheckout): Promise<EventOutcome> {
    const order = await this.orders.lockForPayment(tx, { id: checkout.orderId });
    if (!order || order.status !== 'PENDING') return 'IGNORED';
    const refused = this.refusal(eventId, order, checkout);
    if (refused) return refused;
    // A completed session in payment mode always names its payment; the outbound event requires it.
    await this.orders.markPaymentFailed(tx, order, checkout.paymentIntentId);
    await this.mailUser(tx, order.userId, 'paymentFailed', { orderId: order.id });
    return 'APPLIED';
  }

  async paymentFailed(tx: Transaction, ref: OrderRef, paymentIntentId: string): Promise<EventOutcome> {
    const order = await this.orders.lockForPayment(tx, ref);
    if (!order || order.status !== 'PENDING') return 'IGNORED';
    await this.orders.markPaymentFailed(tx, order, paymentIntentId);
    await this.mailUser(tx, order.userId, 'paymentFailed', { orderId: order.id });
    return 'APPLIED';
  }

  /** REFUNDED or PARTIALLY_REFUNDED; a full refund revokes the order's licenses. */
  async refunded(tx: Transaction, ref: OrderRef, amountRefundedMinor: number, amountMinor: number): Promise<EventOutcome> {
    const order = await this.orders.lockForPayment(tx, ref);
    // Refunds only grow: an older event delivered late cannot lower what is already recorded.
    if (!order || amountRefundedMinor <= order.amountRefundedMinor) return 'IGNORED';
    const full = amountRefundedMinor >= amountMinor;
    if (full) await this.licenses.setStatusOfOrder(tx, order.id, 'REVOKED', 'REFUND');
    await this.orders.recordRefund(tx, order, amountRefundedMinor, full);
    return 'APPLIED';
  }

  /** A chargeback opened: the order's licenses stop working until it is decided. */
  async disputeOpened(tx: Transaction, dispute: EventOf<'order.dispute_opened'>): Promise<EventOutcome> {
    const order = await this.lockDisputed(tx, dispute.paymentIntentId);
    if (!order) return 'IGNORED';
    await this.licenses.setStatusOfOrder(tx, order.id, 'SUSPENDED', 'DISPUTE', { from: 'ACTIVE' });
    await this.orders.recordDisputeOpened(tx, order, { disputeId: dispute.disputeId, reason: dispute.reason, amount: dispute.amountMinor });
    return 'APPLIED';
  }

  /** Lost: the money is gone, so are the licenses. Won (or an inquiry closed): what the dispute suspended works again. */
  async disputeClosed(tx: Transaction, dispute: EventOf<'order.dispute_closed'>): Promise<EventOutcome> {
    const order = await this.lockDisputed(tx, dispute.paymentIntentId);
    if (!order) return 'IGNORED';
    const lost = dispute.status === 'lost';
    if (lost) await this.licenses.setStatusOfOrder(tx, order.id, 'REVOKED', 'DISPUTE_LOST');
    else await this.licenses.setStatusOfOrder(tx, order.id, 'ACTIVE', 'DISPUTE', { from: 'SUSPENDED' });
    await this.orders.recordDisputeClosed(tx, order, { disputeId: dispute.disputeId, status: dispute.status, lost });
    return 'APPLIED';
  }

  /** A dispute carries its own metadata, not the charge's; its payment names the order. */
  private lockDisputed(tx: Transaction, paymentIntentId: string | undefined): Promise<OrderRow | undefined> {
    return paymentIntentId ? this.orders.lockForPayment(tx, { paymentIntentId }) : Promise.resolve(undefined);
  }

  /**
   * Only the session we created settles the order, and only for its price: a payment link or
   * another session naming this order (the buyer sets the reference) does not.
   */
  private refusal(eventId: string, order: OrderRow, checkout: OrderCheckout): EventOutcome | undefined {
    const mismatch = paymentMismatch(order, checkout);
    if (!mismatch) return undefined;
    this.logger.warn(
      `Payment event ${eventId} refused (${mismatch}) for order ${order.id}: session ${checkout.sessionId} paid ${checkout.amountTotalMinor} ${checkout.currency}, ` +
        `order expects session ${order.stripeSessionId} and ${order.amountTotalMinor} ${order.currency}`,
    );
    return mismatch;
  }

  private async mailUser<T extends 'licensesIssued' | 'paymentFailed'>(
    tx: Transaction,
    userId: string,
    template: T,
    params: Omit<MailParams[T], 'name'>,
  ): Promise<void> {
    const recipient = await this.users.recipientIn(tx, userId);
    if (recipient) await this.mail.queue(tx, recipient.user, template, { name: recipient.name, ...params } as MailParams[T]);
  }
}

/** Which of the session, the amount and the currency differs from what the order was created with. */
function paymentMismatch(order: OrderRow, checkout: OrderCheckout): EventOutcome | undefined {
  if (!order.stripeSessionId || checkout.sessionId !== order.stripeSessionId) return 'SESSION_MISMATCH';
  if (checkout.amountTotalMinor !== order.amountTotalMinor) return 'AMOUNT_MISMATCH';
  if ((checkout.currency ?? '').toUpperCase() !== order.currency) return 'CURRENCY_MISMATCH';
  return undefined;
}
