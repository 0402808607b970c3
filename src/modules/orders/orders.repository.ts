import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { OwnerScope } from '../../common/auth/principal';
import { Database, DB } from '../../db/database';
import { ownerCondition } from '../../db/owner-scope';
import { orderItems, orders, products } from '../../db/schema';
import type { Executor, Transaction } from '../../db/database';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;

@Injectable()
export class OrdersRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** The order and its items, in the caller's transaction: never one without the other. */
  async createPending(tx: Transaction, order: typeof orders.$inferInsert, items: Omit<typeof orderItems.$inferInsert, 'orderId'>[]): Promise<OrderRow> {
    const [row] = await tx.insert(orders).values(order).returning();
    await tx.insert(orderItems).values(items.map((item) => ({ ...item, orderId: row!.id })));
    return row!;
  }

  async setSession(id: string, sessionId: string): Promise<void> {
    await this.db.update(orders).set({ stripeSessionId: sessionId }).where(eq(orders.id, id));
  }

  async markFailed(id: string): Promise<void> {
    await this.db
      .update(orders)
      .set({ status: 'FAILED' })
      .where(and(eq(orders.id, id), eq(orders.status, 'PENDING')));
  }

  list(scope: OwnerScope, cursor: string | undefined, limit: number): Promise<OrderRow[]> {
    return this.db
      .select()
      .from(orders)
      .where(and(ownerCondition(orders.userId, scope), cursor ? gt(orders.id, cursor) : undefined))
      .orderBy(asc(orders.id))
      .limit(limit + 1);
  }

  async findOwned(scope: OwnerScope, id: string): Promise<{ order: OrderRow; items: OrderItemRow[] } | undefined> {
    const [order] = await this.db
      .select()
      .from(orders)
      .where(and(eq(orders.id, id), ownerCondition(orders.userId, scope)));
    if (!order) return undefined;
    return { order, items: await this.db.select().from(orderItems).where(eq(orderItems.orderId, id)).orderBy(asc(orderItems.id)) };
  }

  /** Locks the order so two different events cannot change it at once. */
  async lockOrder(tx: Transaction, where: { id?: string; paymentIntentId?: string }): Promise<OrderRow | undefined> {
    const condition = where.id ? eq(orders.id, where.id) : where.paymentIntentId ? eq(orders.stripePaymentIntentId, where.paymentIntentId) : undefined;
    if (!condition) return undefined;
    const [row] = await tx.select().from(orders).where(condition).for('update');
    return row;
  }

  async itemsWithProducts(tx: Executor, orderId: string) {
    return (
      tx
        .select({ item: orderItems, product: products })
        .from(orderItems)
        .innerJoin(products, eq(products.id, orderItems.productId))
        .where(eq(orderItems.orderId, orderId))
        // Product order, so concurrent payments lock product rows (stock) in one order and cannot deadlock.
        .orderBy(asc(orderItems.productId))
    );
  }

  async markPaid(tx: Executor, id: string, changes: { paymentIntentId: string | null; paidAt: Date; oversold: boolean }): Promise<void> {
    await tx
      .update(orders)
      .set({ status: 'PAID', stripePaymentIntentId: changes.paymentIntentId, paidAt: changes.paidAt, oversold: changes.oversold })
      .where(eq(orders.id, id));
  }

  async setRefund(tx: Executor, id: string, amountRefundedMinor: number, status: OrderRow['status']): Promise<void> {
    await tx.update(orders).set({ amountRefundedMinor, status }).where(eq(orders.id, id));
  }

  async setStatus(tx: Executor, id: string, status: OrderRow['status']): Promise<void> {
    await tx.update(orders).set({ status }).where(eq(orders.id, id));
  }
}
