import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import { OutboxEvent } from '../../common/outbox';
import { Database, DB } from '../../db/database';
import { licenses, orderItems, orders, outboxMessages, products, stripeEvents } from '../../db/schema';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

@Injectable()
export class OrdersRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  async createPending(order: typeof orders.$inferInsert, items: Omit<typeof orderItems.$inferInsert, 'orderId'>[]): Promise<OrderRow> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.insert(orders).values(order).returning();
      await tx.insert(orderItems).values(items.map((item) => ({ ...item, orderId: row!.id })));
      return row!;
    });
  }

  async setSession(id: string, sessionId: string): Promise<void> {
    await this.db.update(orders).set({ stripeSessionId: sessionId }).where(eq(orders.id, id));
  }

  async markFailed(id: string): Promise<void> {
    await this.db.update(orders).set({ status: 'FAILED' }).where(and(eq(orders.id, id), eq(orders.status, 'PENDING')));
  }

  /** `userId` undefined: any user's (ADMIN). */
  list(userId: string | undefined, cursor: string | undefined, limit: number): Promise<OrderRow[]> {
    return this.db
      .select()
      .from(orders)
      .where(and(userId ? eq(orders.userId, userId) : undefined, cursor ? gt(orders.id, cursor) : undefined))
      .orderBy(asc(orders.id))
      .limit(limit + 1);
  }

  async findOwned(userId: string | undefined, id: string): Promise<{ order: OrderRow; items: OrderItemRow[] } | undefined> {
    const [order] = await this.db.select().from(orders).where(and(eq(orders.id, id), userId ? eq(orders.userId, userId) : undefined));
    if (!order) return undefined;
    return { order, items: await this.db.select().from(orderItems).where(eq(orderItems.orderId, id)).orderBy(asc(orderItems.id)) };
  }

  /**
   * Stores a verified Stripe event and applies its effect in one transaction. The insert is keyed
   * by the event id with ON CONFLICT DO NOTHING: a concurrent or later redelivery waits for the
   * first, finds the row, and changes nothing. A failure rolls both back, so Stripe retries.
   */
  ingest<T>(event: { id: string; type: string; payload: unknown }, apply: (tx: Tx) => Promise<T>): Promise<{ duplicate: true } | { duplicate: false; result: T }> {
    return this.db.transaction(async (tx) => {
      const [inserted] = await tx.insert(stripeEvents).values(event).onConflictDoNothing().returning({ id: stripeEvents.id });
      if (!inserted) return { duplicate: true as const };
      return { duplicate: false as const, result: await apply(tx) };
    });
  }

  /** Locks the order so two different events cannot change it at once. */
  async lockOrder(tx: Tx, where: { id?: string; paymentIntentId?: string }): Promise<OrderRow | undefined> {
    const condition = where.id ? eq(orders.id, where.id) : where.paymentIntentId ? eq(orders.stripePaymentIntentId, where.paymentIntentId) : undefined;
    if (!condition) return undefined;
    const [row] = await tx.select().from(orders).where(condition).for('update');
    return row;
  }

  async itemsWithProducts(tx: Tx, orderId: string) {
    return tx
      .select({ item: orderItems, product: products })
      .from(orderItems)
      .innerJoin(products, eq(products.id, orderItems.productId))
      .where(eq(orderItems.orderId, orderId))
      // Product order, so concurrent payments lock product rows (stock) in one order and cannot deadlock.
      .orderBy(asc(orderItems.productId));
  }

  async markPaid(tx: Tx, id: string, changes: { amountTotalMinor: number; currency: string; paymentIntentId: string | null; paidAt: Date }): Promise<void> {
    await tx
      .update(orders)
      .set({ status: 'PAID', amountTotalMinor: changes.amountTotalMinor, currency: changes.currency, stripePaymentIntentId: changes.paymentIntentId, paidAt: changes.paidAt })
      .where(eq(orders.id, id));
  }

  /** Takes sold units from stock; unlimited (null) stock is left alone and stock never goes below zero. */
  async takeStock(tx: Tx, productId: string, quantity: number): Promise<void> {
    await tx
      .update(products)
      .set({ stock: sql`GREATEST(${products.stock} - ${quantity}, 0)` })
      .where(and(eq(products.id, productId), isNotNull(products.stock)));
  }

  async insertLicenses(tx: Tx, rows: (typeof licenses.$inferInsert)[]) {
    if (rows.length === 0) return [];
    return tx.insert(licenses).values(rows).returning({ id: licenses.id });
  }

  async setRefund(tx: Tx, id: string, amountRefundedMinor: number, status: OrderRow['status']): Promise<void> {
    await tx.update(orders).set({ amountRefundedMinor, status }).where(eq(orders.id, id));
  }

  async revokeLicensesOf(tx: Tx, orderId: string): Promise<void> {
    await tx.update(licenses).set({ status: 'REVOKED' }).where(eq(licenses.orderId, orderId));
  }

  async setStatus(tx: Tx, id: string, status: OrderRow['status']): Promise<void> {
    await tx.update(orders).set({ status }).where(eq(orders.id, id));
  }

  async outbox(tx: Tx, event: OutboxEvent): Promise<void> {
    await tx.insert(outboxMessages).values(event);
  }

  productsByIds(ids: string[]) {
    return this.db.select().from(products).where(inArray(products.id, ids));
  }
}
