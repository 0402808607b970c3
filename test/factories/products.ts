import { products } from '../../src/db/schema';
import { Db, orm, unique } from './db';

export type ProductRow = typeof products.$inferSelect;

/** A products row: 49.00 net at 20% VAT, unlimited stock, perpetual single-seat licenses unless told. */
export async function insertProduct(db: Db, overrides: Partial<typeof products.$inferInsert> = {}): Promise<ProductRow> {
  const [row] = await orm(db)
    .insert(products)
    .values({ sku: `SKU-${unique()}`, name: 'Desktop app', priceNetMinor: 4900, vatBasisPoints: 2000, ...overrides })
    .returning();
  return row!;
}
