import { Injectable } from '@nestjs/common';
import { ownerScope, Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { toPage } from '../../common/pagination';
import type { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { OutboxService } from '../outbox/outbox.service';
import { toOrderItemView, toOrderView } from './orders.mapper';
import { OrderItemRow, OrderRow, OrdersRepository } from './orders.repository';

export type { OrderRow } from './orders.repository';
export type NewOrderItem = Omit<OrderItemRow, 'id' | 'orderId'>;

/** Orders: the buyer's view, and the changes payments make, each with its outbound event. */
@Injectable()
export class OrdersService {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly outbox: OutboxService,
    private readonly transactions: TransactionRunner,
  ) {}

  async list(principal: Principal, cursor: string | undefined, limit: number) {
    const page = toPage(await this.orders.list(ownerScope(principal), cursor, limit), limit);
    return { items: page.items.map(toOrderView), nextCursor: page.nextCursor };
  }

  async get(principal: Principal, id: string) {
    const found = await this.orders.findOwned(ownerScope(principal), id);
    if (!found) throw new DomainError('NOT_FOUND');
    return { ...toOrderView(found.order), items: found.items.map(toOrderItemView) };
  }

  /** A PENDING order with its items, before its checkout session exists. */
  createPending(order: { userId: string; currency: string; amountTotalMinor: number }, items: NewOrderItem[]): Promise<OrderRow> {
    return this.transactions.run((tx) => this.orders.createPending(tx, order, items));
  }

  attachSession(id: string, sessionId: string): Promise<void> {
    return this.orders.setSession(id, sessionId);
  }

  /** No session could be opened: the PENDING order can never be paid. */
  checkoutFailed(id: string): Promise<void> {
    return this.orders.markFailed(id);
  }

  /** Locks the order a payment names, so two events cannot change it at once. */
  lockForPayment(tx: Transaction, ref: { id?: string; paymentIntentId?: string }): Promise<OrderRow | undefined> {
    return this.orders.lockOrder(tx, ref);
  }

  /** The order's items with their products, in product order (the order stock rows are locked in). */
  itemsWithProducts(tx: Transaction, orderId: string) {
    return this.orders.itemsWithProducts(tx, orderId);
  }

  async markPaid(
    tx: Transaction,
    order: OrderRow,
    paid: { sessionId: string; paymentIntentId: string | null; paidAt: Date; oversold: boolean; licenseIds: string[] },
  ): Promise<void> {
    await this.orders.markPaid(tx, order.id, paid);
    await this.outbox.append(tx, {
      type: 'checkout.session.completed',
      payload: {
        orderId: order.id,
        userId: order.userId,
        sessionId: paid.sessionId,
        amountTotal: order.amountTotalMinor,
        currency: order.currency,
        licenseIds: paid.licenseIds,
      },
    });
  }

  /** FAILED; the event names the payment when there is one. */
  async markPaymentFailed(tx: Transaction, order: OrderRow, paymentIntentId: string | null): Promise<void> {
    await this.orders.setStatus(tx, order.id, 'FAILED');
    if (paymentIntentId) {
      await this.outbox.append(tx, { type: 'payment_intent.payment_failed', payload: { orderId: order.id, userId: order.userId, paymentIntentId } });
    }
  }

  async recordRefund(tx: Transaction, order: OrderRow, amountRefundedMinor: number, full: boolean): Promise<void> {
    await this.orders.setRefund(tx, order.id, amountRefundedMinor, full ? 'REFUNDED' : 'PARTIALLY_REFUNDED');
    await this.outbox.append(tx, { type: 'charge.refunded', payload: { orderId: order.id, userId: order.userId, amountRefunded: amountRefundedMinor, full } });
  }

  async recordDisputeOpened(tx: Transaction, order: OrderRow, dispute: { disputeId: string; reason: string; amount: number }): Promise<void> {
    await this.outbox.append(tx, { type: 'charge.dispute.created', payload: { orderId: order.id, userId: order.userId, ...dispute } });
  }

  async recordDisputeClosed(tx: Transaction, order: OrderRow, dispute: { disputeId: string; status: string; lost: boolean }): Promise<void> {
    await this.outbox.append(tx, { type: 'charge.dispute.closed', payload: { orderId: order.id, userId: order.userId, ...dispute } });
  }
}
