import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, inArray, isNotNull } from 'drizzle-orm';
import type { OwnerScope } from '../../common/auth/principal';
import { Database, DB } from '../../db/database';
import { ownerCondition } from '../../db/owner-scope';
import { licenses, orderItems, orders, products, stripeEvents } from '../../db/schema';

export type OrderRow = typeof orders.$inferSelect;
type LicenseStatus = (typeof licenses.$inferSelect)['status'];
export type OrderItemRow = typeof orderItems.$inferSelect;
const LICENSE_INSERT_CHUNK = 1000;

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

  list(scope: OwnerScope, cursor: string | undefined, limit: number): Promise<OrderRow[]> {
    return this.db
      .select()
      .from(orders)
      .where(and(ownerCondition(orders.userId, scope), cursor ? gt(orders.id, cursor) : undefined))
      .orderBy(asc(orders.id))
      .limit(limit + 1);
  }

  async findOwned(scope: OwnerScope, id: string): Promise<{ order: OrderRow; items: OrderItemRow[] } | undefined> {
    const [order] = await this.db.select().from(orders).where(and(eq(orders.id, id), ownerCondition(orders.userId, scope)));
    if (!order) return undefined;
    return { order, items: await this.db.select().from(orderItems).where(eq(orderItems.orderId, id)).orderBy(asc(orderItems.id)) };
  }

  /**
   * Stores a verified Stripe event and applies its effect in one transaction. The insert is keyed
   * by the event id with ON CONFLICT DO NOTHING: a concurrent or later redelivery waits for the
   * first, finds the row, and changes nothing. A failure rolls both back, so Stripe retries. The
   * row keeps what applying it did, refusals included.
   */
  ingest<T extends { outcome: string }>(
    event: { id: string; type: string; payload: unknown },
    apply: (tx: Tx) => Promise<T>,
  ): Promise<{ duplicate: true } | { duplicate: false; result: T }> {
    return this.db.transaction(async (tx) => {
      const [inserted] = await tx.insert(stripeEvents).values(event).onConflictDoNothing().returning({ id: stripeEvents.id });
      if (!inserted) return { duplicate: true as const };
      const result = await apply(tx);
      await tx.update(stripeEvents).set({ outcome: result.outcome }).where(eq(stripeEvents.id, event.id));
      return { duplicate: false as const, result };
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

  async markPaid(tx: Tx, id: string, changes: { paymentIntentId: string | null; paidAt: Date; oversold: boolean }): Promise<void> {
    await tx
      .update(orders)
      .set({ status: 'PAID', stripePaymentIntentId: changes.paymentIntentId, paidAt: changes.paidAt, oversold: changes.oversold })
      .where(eq(orders.id, id));
  }

  /**
   * Takes sold units from stock; unlimited (null) stock is left alone and stock never goes below
   * zero. Returns how many units were missing (0 when there were enough).
   */
  async takeStock(tx: Tx, productId: string, quantity: number): Promise<number> {
    const [row] = await tx
      .select({ stock: products.stock })
      .from(products)
      .where(and(eq(products.id, productId), isNotNull(products.stock)))
      .for('update');
    if (!row || row.stock === null) return 0;
    await tx
      .update(products)
      .set({ stock: Math.max(row.stock - quantity, 0) })
      .where(eq(products.id, productId));
    return Math.max(quantity - row.stock, 0);
  }

  /** In chunks: one insert carries 8 parameters per license, and the protocol allows 65,535 per statement. */
  async insertLicenses(tx: Tx, rows: (typeof licenses.$inferInsert)[]): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < rows.length; start += LICENSE_INSERT_CHUNK) {
      const inserted = await tx
        .insert(licenses)
        .values(rows.slice(start, start + LICENSE_INSERT_CHUNK))
        .returning({ id: licenses.id });
      ids.push(...inserted.map((row) => row.id));
    }
    return ids;
  }

  async setRefund(tx: Tx, id: string, amountRefundedMinor: number, status: OrderRow['status']): Promise<void> {
    await tx.update(orders).set({ amountRefundedMinor, status }).where(eq(orders.id, id));
  }

  /** All of the order's licenses, or with `from` only those in that status. */
  async setLicenseStatusOf(tx: Tx, orderId: string, status: LicenseStatus, only: { from?: LicenseStatus } = {}): Promise<void> {
    await tx
      .update(licenses)
      .set({ status })
      .where(and(eq(licenses.orderId, orderId), only.from ? eq(licenses.status, only.from) : undefined));
  }

  async setStatus(tx: Tx, id: string, status: OrderRow['status']): Promise<void> {
    await tx.update(orders).set({ status }).where(eq(orders.id, id));
  }

  productsByIds(ids: string[]) {
    return this.db.select().from(products).where(inArray(products.id, ids));
  }
}
