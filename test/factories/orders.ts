import { grossOf } from '../../src/common/money/money';
import { orderItems, orders } from '../../src/db/schema';
import { Db, orm, unique } from './db';
import { insertProduct, ProductRow } from './products';
import { insertUser } from './users';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;

type OrderLine = { product: Pick<ProductRow, 'id' | 'priceNetMinor' | 'vatBasisPoints'>; quantity?: number };

/**
 * An orders row with its items, priced from the products as checkout prices them; PENDING with a
 * Stripe session id unless told: `await insertOrder(db, { userId, items: [{ product, quantity: 2 }] })`.
 * Without a user or items, a fresh user and one unit of a fresh product.
 */
export async function insertOrder(
  db: Db,
  overrides: Partial<typeof orders.$inferInsert> & { items?: OrderLine[] } = {},
): Promise<OrderRow & { items: OrderItemRow[] }> {
  const { items = [{ product: await insertProduct(db) }], userId = (await insertUser(db)).id, ...columns } = overrides;
  const lines = items.map(({ product, quantity = 1 }) => ({
    productId: product.id,
    quantity,
    unitNetMinor: product.priceNetMinor,
    vatBasisPoints: product.vatBasisPoints,
    unitGrossMinor: grossOf(product.priceNetMinor, product.vatBasisPoints),
  }));
  const amountTotalMinor = lines.reduce((sum, line) => sum + line.unitGrossMinor * line.quantity, 0);
  return orm(db).transaction(async (tx) => {
    const [order] = await tx
      .insert(orders)
      .values({ userId, currency: 'USD', amountTotalMinor, stripeSessionId: `cs_test_${unique()}`, ...columns })
      .returning();
    const rows = await tx
      .insert(orderItems)
      .values(lines.map((line) => ({ ...line, orderId: order!.id })))
      .returning();
    return { ...order!, items: rows };
  });
}
