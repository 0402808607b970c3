import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/common/crypto/secret-token';
import { licenses } from '../../src/db/schema';
import { LicensesRepository } from '../../src/modules/licenses/licenses.repository';
import { orm } from '../factories/db';
import { insertActivation, insertLicense } from '../factories/licenses';
import { insertOrder } from '../factories/orders';
import { insertProduct } from '../factories/products';
import { insertUser } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

/**
 * Medium tier: the validation lookup decodes its one JSON column by hand (licenses.repository.ts,
 * FOR_VALIDATION). Whatever a license row holds, the decoded license is what drizzle's own select
 * of that row gives, field for field, with the same types.
 */
describe('LicensesRepository.findForValidation (medium): the hand-decoded row', () => {
  const ctx = useTestApp();
  const repository = () => ctx.t.app.get(LicensesRepository);
  const drizzleRow = async (id: string) => (await orm(ctx.db).select().from(licenses).where(eq(licenses.id, id)))[0]!;

  it('every column of a license with all of them set (times with microseconds), its product scope and its activations', async () => {
    const user = await insertUser(ctx.db);
    const product = await insertProduct(ctx.db, { geoScope: ['MARMARA', 'EUROPE'] });
    const order = await insertOrder(ctx.db, { userId: user.id, items: [{ product }] });
    const license = await insertLicense(ctx.db, {
      userId: user.id,
      productId: product.id,
      orderId: order.id,
      status: 'SUSPENDED',
      maxActivations: 7,
      expiresAt: new Date('2031-02-03T04:05:06.789Z'),
    });
    // Microseconds the Date type cannot hold: both readings keep the milliseconds.
    await ctx.db.query("UPDATE licenses SET last_validated_at = '2026-12-08 01:02:03.456789+00', created_at = '2026-01-01 00:00:00.999999+00' WHERE id = $1", [
      license.id,
    ]);
    await insertActivation(ctx.db, { licenseId: license.id, fingerprint: 'machine-a' });
    await insertActivation(ctx.db, { licenseId: license.id, fingerprint: 'machine-b' });
    const seat = await insertActivation(ctx.db, { licenseId: license.id, fingerprint: 'machine-c' });

    const found = await repository().findForValidation(sha256(license.key), 'machine-c');

    expect(found).toEqual({ license: await drizzleRow(license.id), productGeoScope: ['MARMARA', 'EUROPE'], activationCount: 3, activationId: seat.id });
    expect(found!.license.lastValidatedAt!.toISOString()).toBe('2026-12-08T01:02:03.456Z');
    expect(found!.license.createdAt.toISOString()).toBe('2026-01-01T00:00:00.999Z');
    expect(found!.license.expiresAt).toBeInstanceOf(Date);
  });

  it('nulls stay null: perpetual, never validated, no order, no product scope, no activations, an unknown fingerprint', async () => {
    const license = await insertLicense(ctx.db);
    const found = await repository().findForValidation(sha256(license.key), 'not-a-seat');
    expect(found).toEqual({ license: await drizzleRow(license.id), productGeoScope: null, activationCount: 0, activationId: null });
    expect(found!.license).toMatchObject({ expiresAt: null, lastValidatedAt: null, orderId: null });
  });

  it('no fingerprint asks for none; an unknown key finds nothing', async () => {
    const license = await insertLicense(ctx.db);
    await insertActivation(ctx.db, { licenseId: license.id, fingerprint: 'machine-a' });
    expect(await repository().findForValidation(sha256(license.key), undefined)).toMatchObject({ activationCount: 1, activationId: null });
    expect(await repository().findForValidation(sha256('ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2'), undefined)).toBeUndefined();
  });
});
