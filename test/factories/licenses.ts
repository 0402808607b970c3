import { eq } from 'drizzle-orm';
import { activations, licenses, products } from '../../src/db/schema';
import { newLicense } from '../../src/modules/licenses/license-key';
import { Db, orm, unique } from './db';
import { insertProduct } from './products';
import { insertUser } from './users';

export type LicenseRow = typeof licenses.$inferSelect;

/**
 * A licenses row made the way a grant makes it (the product's policy fills what is not given),
 * with its plaintext `key`: `await insertLicense(db, { userId, productId })`. Without a user or
 * product, a fresh one of each is inserted.
 */
export async function insertLicense(
  db: Db,
  overrides: Partial<Omit<typeof licenses.$inferInsert, 'keyHash' | 'keyPrefix'>> = {},
): Promise<LicenseRow & { key: string }> {
  const { userId = (await insertUser(db)).id, productId, ...columns } = overrides;
  const product = productId ? await orm(db).query.products.findFirst({ where: eq(products.id, productId) }) : await insertProduct(db);
  if (!product) throw new Error(`insertLicense: no product ${productId}`);
  const { key, row } = newLicense(product, { userId, orderId: columns.orderId }, new Date());
  const [license] = await orm(db)
    .insert(licenses)
    .values({ ...row, ...columns })
    .returning();
  return { ...license!, key };
}

export type ActivationRow = typeof activations.$inferSelect;

/** An activations row (a seat taken) on a license. */
export async function insertActivation(db: Db, values: { licenseId: string } & Partial<typeof activations.$inferInsert>): Promise<ActivationRow> {
  const [row] = await orm(db)
    .insert(activations)
    .values({ fingerprint: `machine-${unique()}`, ip: '192.0.2.1', ...values })
    .returning();
  return row!;
}
