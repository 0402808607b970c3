import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { putOnPlan } from '../factories/subscriptions';
import { useTestApp } from '../helpers/test-app';

describe('products', () => {
  const ctx = useTestApp();
  let admin: string;
  let user: string;
  beforeAll(async () => {
    admin = (await registerAdmin(ctx.t.app, ctx.db)).accessToken;
    const customer = await registerAndLogin(ctx.t.app);
    user = customer.accessToken;
    // getAll is a paid endpoint.
    await putOnPlan(ctx.t.app, ctx.db, customer.user.id, 'PREMIUM_MONTHLY');
  });

  const call = callerFor(ctx);
  const sku = () => `SKU-${randomBytes(4).toString('hex')}`;

  async function createProduct(overrides: Record<string, unknown> = {}) {
    const response = await call('POST', '/v1/products', admin, { sku: sku(), name: 'Pro licence', priceNet: '207.50', vat: '20', ...overrides });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  }

  it('stores exact minor units and derives gross = net × (1 + vat/100), half-up: 207.50 at 20% is 249.00', async () => {
    const product = await createProduct({ barcode: '4006381333931', stock: 5, licenseDurationDays: 365, maxActivations: 3 });
    expect(product).toMatchObject({ priceNet: '207.50', vat: '20.00', priceGross: '249.00', currency: 'USD', stock: 5, active: true, maxActivations: 3 });
    const { rows } = await ctx.db.query('SELECT price_net_minor, vat_basis_points FROM products WHERE id = $1', [product.id]);
    expect(rows[0]).toEqual({ price_net_minor: '20750', vat_basis_points: 2000 });
    const awkward = await createProduct({ priceNet: '0.05', vat: '10' });
    expect(awkward.priceGross).toBe('0.06');
  });

  it('refuses a wrong check digit, a currency without two decimals, three decimals and unknown fields, per field', async () => {
    const response = await call('POST', '/v1/products', admin, {
      sku: sku(),
      name: 'x',
      priceNet: '1.234',
      vat: '20',
      barcode: '4006381333932',
      currency: 'JPY',
      color: 'red',
    });
    expect(response.statusCode).toBe(422);
    const fields = response
      .json()
      .errors.map((error: { field: string }) => error.field)
      .sort();
    expect(fields).toEqual(['barcode', 'color', 'currency', 'priceNet']);
  });

  it('refuses a duplicate SKU with 409', async () => {
    const product = await createProduct();
    const again = await call('POST', '/v1/products', admin, { sku: product.sku, name: 'dup', priceNet: '1', vat: '0' });
    expect(again.statusCode).toBe(409);
  });

  it('lets any signed-in user or key read, and only ADMINs write', async () => {
    const product = await createProduct();
    expect((await call('GET', `/v1/products/${product.id}`, user)).json().id).toBe(product.id);
    const write = await call('PATCH', `/v1/products/${product.id}`, user, { name: 'hijacked' });
    expect(write.statusCode).toBe(403);

    const keyResponse = await call('POST', '/v1/api-keys', user, { name: 'catalog reader', scope: 'read-only' });
    const key = keyResponse.json().key as string;
    expect((await call('GET', '/v1/products', key)).statusCode).toBe(200);
    const keyWrite = await call('POST', '/v1/products', key, { sku: sku(), name: 'x', priceNet: '1', vat: '0' });
    expect(keyWrite.statusCode).toBe(403);
    expect(keyWrite.json().code).toBe('INSUFFICIENT_SCOPE');
  });

  it('updates and soft-deletes', async () => {
    const product = await createProduct();
    const updated = await call('PATCH', `/v1/products/${product.id}`, admin, { priceNet: '10.00', vat: '18', stock: null });
    expect(updated.json()).toMatchObject({ priceNet: '10.00', vat: '18.00', priceGross: '11.80', stock: null });
    expect((await call('DELETE', `/v1/products/${product.id}`, admin)).statusCode).toBe(204);
    expect((await call('GET', `/v1/products/${product.id}`, user)).json().active).toBe(false);
    expect((await call('DELETE', '/v1/products/prd_01jh8x2v3kf6qz9w0c4m5t7r8y', admin)).statusCode).toBe(404);
  });

  it('searches name, SKU and barcode literally: LIKE wildcards in the search are escaped', async () => {
    const tag = randomBytes(3).toString('hex');
    const percent = await createProduct({ name: `100% cotton ${tag}` });
    await createProduct({ name: `1000 cotton ${tag}` });
    const found = await call('GET', `/v1/products?search=${encodeURIComponent(`0% cotton ${tag}`)}`, user);
    expect(found.json().items.map((item: { id: string }) => item.id)).toEqual([percent.id]);
    const bySku = await call('GET', `/v1/products?search=${percent.sku.toLowerCase()}`, user);
    expect(bySku.json().items.map((item: { id: string }) => item.id)).toEqual([percent.id]);
    const underscore = await call('GET', `/v1/products?search=${encodeURIComponent(`_00 cotton ${tag}`)}`, user);
    expect(underscore.json().items).toEqual([]);
  });

  it('stores a geoScope, shows it, changes and clears it; a product without one reads null; the integration format does not carry it', async () => {
    const geoScopeOf = async (id: string) => (await ctx.db.query('SELECT geo_scope::text[] AS scope FROM products WHERE id = $1', [id])).rows[0].scope;
    expect((await createProduct()).geoScope).toBeNull();
    const product = await createProduct({ geoScope: ['TURKEY', 'EUROPE'] });
    expect(product.geoScope).toEqual(['TURKEY', 'EUROPE']);
    expect(await geoScopeOf(product.id)).toEqual(['TURKEY', 'EUROPE']);
    expect((await call('GET', `/v1/products/${product.id}`, user)).json().geoScope).toEqual(['TURKEY', 'EUROPE']);

    const narrowed = await call('PATCH', `/v1/products/${product.id}`, admin, { geoScope: ['MARMARA'] });
    expect(narrowed.json().geoScope).toEqual(['MARMARA']);
    const untouched = await call('PATCH', `/v1/products/${product.id}`, admin, { name: 'Renamed' });
    expect(untouched.json().geoScope).toEqual(['MARMARA']);
    const cleared = await call('PATCH', `/v1/products/${product.id}`, admin, { geoScope: null });
    expect(cleared.json().geoScope).toBeNull();
    expect(await geoScopeOf(product.id)).toBeNull();

    await call('PATCH', `/v1/products/${product.id}`, admin, { geoScope: ['ASIA'] });
    const entry = (await call('GET', '/api/integration/products/getAll', user)).json().find((item: { Id: string }) => item.Id === product.id);
    expect(Object.keys(entry).sort()).toEqual(['Barcode', 'Id', 'Name', 'PriceGross', 'PriceNet', 'Sku', 'Stock', 'Vat']);
  });

  it.each([
    ['an empty list', [], 'geoScope', 'TOO_SMALL'],
    ['an unknown scope', ['TURKEY', 'NARNIA'], 'geoScope.1', 'INVALID_VALUE'],
    ['a scope listed twice', ['MARMARA', 'AEGEAN', 'MARMARA'], 'geoScope.2', 'DUPLICATE'],
    ['a bare string', 'TURKEY', 'geoScope', 'INVALID_TYPE'],
  ])('refuses %s as geoScope with 422 naming the field, on create and on update, and writes nothing', async (_case, geoScope, field, code) => {
    const name = `geo ${randomBytes(3).toString('hex')}`;
    const created = await call('POST', '/v1/products', admin, { sku: sku(), name, priceNet: '1', vat: '0', geoScope });
    expect(created.statusCode).toBe(422);
    expect(created.json().errors).toEqual([expect.objectContaining({ field, code })]);
    expect((await ctx.db.query('SELECT 1 FROM products WHERE name = $1', [name])).rowCount).toBe(0);

    const product = await createProduct({ geoScope: ['WORLD'] });
    const updated = await call('PATCH', `/v1/products/${product.id}`, admin, { geoScope });
    expect(updated.statusCode).toBe(422);
    expect(updated.json().errors).toEqual([expect.objectContaining({ field, code })]);
    expect((await call('GET', `/v1/products/${product.id}`, user)).json().geoScope).toEqual(['WORLD']);
  });

  it('serves the published integration format, with prices as exact JSON numbers', async () => {
    const product = await createProduct({ barcode: '96385074', stock: 2 });
    const response = await call('GET', '/api/integration/products/getAll', user);
    expect(response.statusCode).toBe(200);
    const entry = response.json().find((item: { Id: string }) => item.Id === product.id);
    expect(entry).toEqual({ Id: product.id, Sku: product.sku, Name: 'Pro licence', Barcode: '96385074', PriceNet: 207.5, PriceGross: 249, Vat: 20, Stock: 2 });
    expect(response.body).toContain(`"PriceNet":207.5,"PriceGross":249,"Vat":20`);
    await call('DELETE', `/v1/products/${product.id}`, admin);
    const after = await call('GET', '/api/integration/products/getAll', user);
    expect(after.json().some((item: { Id: string }) => item.Id === product.id)).toBe(false);
  });
});
