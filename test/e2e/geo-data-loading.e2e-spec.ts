import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { GeoLocator } from '../../src/common/geo/geo-locator';
import { plans, subscriptions } from '../../src/db/schema';
import { insertAccount } from '../factories/accounts';
import { orm } from '../factories/db';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { insertUser, registerAdmin } from '../factories/users';
import { GEO_ADDRESSES } from '../fixtures/geo-addresses';
import { callerFor } from '../helpers/http';
import { createTestApp, createTestDatabase, TestApp, TestDatabase, useTestApp } from '../helpers/test-app';

const PROXY = '10.0.0.5';
const ENV = { TRUST_PROXY: '10.0.0.0/8' };
const { istanbul, germany } = GEO_ADDRESSES;

const validate = (t: TestApp, key: string, forwardedFor: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/licenses/validate',
    payload: JSON.stringify({ key }),
    remoteAddress: PROXY,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
  });

const codeOf = async (t: TestApp, key: string, ip: string) => (await validate(t, key, ip)).json().code as string;

describe('the geographic data is read only once a product or plan restricts by place', () => {
  const ctx = useTestApp({ env: ENV });
  let admin: string;
  beforeAll(async () => {
    admin = (await registerAdmin(ctx.t.app, ctx.db)).accessToken;
  });
  const geo = () => ctx.t.app.get(GeoLocator);
  const call = callerFor(ctx);

  it('boots without it where nothing restricts (the presets are ALL), and unscoped or ALL-scoped validations read nothing', async () => {
    expect(geo().loaded).toBe(false);
    const userId = (await insertUser(ctx.db)).id;
    for (const geoScope of [null, ['ALL' as const], ['TURKEY' as const, 'ALL' as const]]) {
      const license = await insertLicense(ctx.db, { userId, productId: (await insertProduct(ctx.db, { geoScope })).id });
      expect(await codeOf(ctx.t, license.key, germany.ip)).toBe('VALID');
    }
    expect(geo().loaded).toBe(false);
  });

  it('a product created with a scope of TURKEY starts the read, and its licenses are decided on the data from the first validation', async () => {
    const created = await call('POST', '/v1/products', admin, {
      sku: `SKU-${randomBytes(4).toString('hex')}`,
      name: 'TR only',
      priceNet: '1',
      vat: '0',
      geoScope: ['TURKEY'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const license = await insertLicense(ctx.db, { productId: created.json().id });
    // At once, while the read may still be under way: decided, not waved through.
    const [fromGermany, fromIstanbul] = await Promise.all([codeOf(ctx.t, license.key, germany.ip), codeOf(ctx.t, license.key, istanbul.ip)]);
    expect({ fromGermany, fromIstanbul }).toEqual({ fromGermany: 'GEO_RESTRICTED', fromIstanbul: 'VALID' });
    expect(geo().loaded).toBe(true);
  });
});

describe('the read starts with each write that restricts by place', () => {
  const ctx = useTestApp({ env: ENV });
  let admin: string;
  beforeAll(async () => {
    admin = (await registerAdmin(ctx.t.app, ctx.db)).accessToken;
  });
  const call = callerFor(ctx);

  it('a product updated to a scope, and a preset plan given one, each start it with no request needing the data', async () => {
    const product = await insertProduct(ctx.db, { geoScope: null });
    expect((await call('PATCH', `/v1/products/${product.id}`, admin, { geoScope: ['ALL'] })).statusCode).toBe(200);
    expect(ctx.t.app.get(GeoLocator).loaded).toBe(false);
    expect((await call('PATCH', `/v1/products/${product.id}`, admin, { geoScope: ['EUROPE'] })).statusCode).toBe(200);
    await expect.poll(() => ctx.t.app.get(GeoLocator).loaded, { timeout: 10_000 }).toBe(true);
  });
});

describe('a preset plan given a scope starts the read', () => {
  const ctx = useTestApp({ env: ENV });
  const call = callerFor(ctx);
  it('PATCH /v1/subscriptions/plans/ENTRY_MONTHLY with [ASIA]', async () => {
    const admin = (await registerAdmin(ctx.t.app, ctx.db)).accessToken;
    expect(ctx.t.app.get(GeoLocator).loaded).toBe(false);
    const patched = await call('PATCH', '/v1/subscriptions/plans/ENTRY_MONTHLY', admin, { geoScope: ['ASIA'] });
    expect(patched.statusCode, patched.body).toBe(200);
    await expect.poll(() => ctx.t.app.get(GeoLocator).loaded, { timeout: 10_000 }).toBe(true);
  });
});

describe('at boot, a stored scope that restricts by place starts the read', () => {
  let database: TestDatabase;
  let db: Client;
  let t: TestApp | undefined;
  beforeAll(async () => {
    database = await createTestDatabase('geo-boot');
    db = new Client({ connectionString: database.url });
    await db.connect();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  it('a product scoped to TURKEY: read at boot, before any request', async () => {
    const product = await insertProduct(db, { geoScope: ['TURKEY'] });
    t = await createTestApp({ database, env: ENV });
    await expect.poll(() => t!.app.get(GeoLocator).loaded, { timeout: 10_000 }).toBe(true);
    const license = await insertLicense(db, { productId: product.id });
    expect(await codeOf(t, license.key, germany.ip)).toBe('GEO_RESTRICTED');
    await db.query('UPDATE products SET geo_scope = NULL WHERE id = $1', [product.id]);
  });

  it('a running period whose snapshotted terms keep [MARMARA], though every plan is ALL again: read at boot', async () => {
    const plan = await orm(db).query.plans.findFirst({ where: eq(plans.code, 'ENTRY_MONTHLY') });
    const account = await insertAccount(db, { status: 'ACTIVE' });
    await orm(db)
      .insert(subscriptions)
      .values({
        accountId: account.id,
        userId: account.userId,
        planId: plan!.id,
        status: 'ACTIVE',
        currentPeriodStart: new Date(),
        terms: { limitResetPeriod: 'MONTHLY', geoScope: ['MARMARA'], limits: plan!.limits, rateLimit: null },
      });
    t = await createTestApp({ database, env: ENV });
    await expect.poll(() => t!.app.get(GeoLocator).loaded, { timeout: 10_000 }).toBe(true);
  });
});
