import { describe, expect, it } from 'vitest';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

type Response = { statusCode: number; headers: Record<string, unknown>; json(): unknown };

function expectProblem(response: Response, status: number, code: string) {
  expect(response.statusCode, JSON.stringify(response.json())).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  return body;
}

describe('routing: 405 for a known path asked with the wrong method (issue 8, finding: wrong methods never get 405)', () => {
  const ctx = useTestApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });

  it.each([
    ['PUT', '/v1/auth/login', 'POST'],
    ['GET', '/v1/auth/login', 'POST'],
    ['PATCH', '/v1/licenses/validate', 'POST'],
    ['GET', '/v1/licenses/validate', 'POST'],
    ['DELETE', '/v1/licenses/jwks', 'GET, HEAD'],
    ['POST', '/health/live', 'GET, HEAD'],
    ['PUT', '/v1/products/prd_01jh8x2v3kf6qz9w0c4m5t7r8y', 'GET, HEAD, PATCH, DELETE'],
    ['GET', '/v1/api-keys/key_01jh8x2v3kf6qz9w0c4m5t7r8y/rotate', 'POST'],
  ])('%s %s answers 405 METHOD_NOT_ALLOWED with Allow: %s, before authentication', async (method, url, allow) => {
    const response = await ctx.t.app.inject({ method: method as 'GET', url });
    const body = expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe(allow);
    expect(body.instance).toBe(url);
  });

  it('never reads a literal segment as an id: PATCH /v1/licenses/validate is 405 for a signed-in caller too, and writes nothing', async () => {
    const { accessToken } = await registerAndLogin(ctx.t.app);
    const before = await ctx.db.query('SELECT count(*)::int AS n FROM outbox_messages');
    const response = await ctx.t.app.inject({
      method: 'PATCH',
      url: '/v1/licenses/validate',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ status: 'REVOKED' }),
    });
    expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe('POST');
    const after = await ctx.db.query('SELECT count(*)::int AS n FROM outbox_messages');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('keeps 404 for a path no route serves, whatever the method', async () => {
    for (const method of ['GET', 'POST', 'PUT'] as const) {
      const response = await ctx.t.app.inject({ method, url: '/v1/nothing-here' });
      expectProblem(response, 404, 'NOT_FOUND');
      expect(response.headers.allow).toBeUndefined();
    }
    expectProblem(await ctx.t.app.inject({ method: 'GET', url: '/v1/licenses/validate/extra' }), 404, 'NOT_FOUND');
  });

  it('serves HEAD wherever GET is served, and the right method still reaches its handler', async () => {
    const head = await ctx.t.app.inject({ method: 'HEAD', url: '/health/live' });
    expect(head.statusCode).toBe(200);
    const jwks = await ctx.t.app.inject({ method: 'GET', url: '/v1/licenses/jwks' });
    expect(jwks.statusCode).toBe(200);
    const validate = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/licenses/validate',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ key: 'AAAAA-AAAAA-AAAAA-AAAAA-AAAAA' }),
    });
    expect(validate.statusCode).toBe(200);
  });

  it('leaves OPTIONS to CORS: a preflight on a known path still gets 204 with the CORS headers, and exposes Allow', async () => {
    const preflight = await ctx.t.app.inject({
      method: 'OPTIONS',
      url: '/v1/licenses/validate',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const wrong = await ctx.t.app.inject({ method: 'PUT', url: '/v1/auth/login', headers: { origin: 'https://app.example.com' } });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(wrong.headers['access-control-expose-headers'])).toContain('allow');
  });
});

describe('the spec states the rules the server enforces (issue 8, finding: ids, money and query parameters undocumented)', () => {
  const ctx = useTestApp();
  const json = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

  it('refuses an unknown query parameter with 422 naming it, on list routes and on routes that take no query at all', async () => {
    const { accessToken } = await registerAndLogin(ctx.t.app);
    for (const url of ['/v1/products?limt=5', '/v1/orders?limit=5&limt=5', '/v1/api-keys?limt=5', '/v1/users/me?limt=5', '/v1/licenses/jwks?limt=5']) {
      const response = await ctx.t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${accessToken}` } });
      const body = expectProblem(response, 422, 'VALIDATION_FAILED');
      expect(body.errors, url).toEqual([expect.objectContaining({ field: 'limt', code: 'UNRECOGNIZED_KEY' })]);
    }
    const declared = await ctx.t.app.inject({ method: 'GET', url: '/v1/products?limit=5&search=x', headers: { authorization: `Bearer ${accessToken}` } });
    expect(declared.statusCode).toBe(200);
    // Authentication still comes first.
    expectProblem(await ctx.t.app.inject({ method: 'GET', url: '/v1/products?limt=5' }), 401, 'UNAUTHORIZED');
  });

  it('answers a malformed or foreign id in the path with 422 naming `id`, and changes nothing', async () => {
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    const before = await ctx.db.query('SELECT count(*)::int AS n FROM products');
    for (const id of [
      'prd_123',
      'usr_01jh8x2v3kf6qz9w0c4m5t7r8y',
      'PRD_01JH8X2V3KF6QZ9W0C4M5T7R8Y',
      'prd_81jh8x2v3kf6qz9w0c4m5t7r8y',
      'prd_01jh8x2v3kf6qz9w0c4m5t7r8yy',
    ]) {
      const response = await ctx.t.app.inject({ method: 'PATCH', url: `/v1/products/${id}`, headers: json(admin.accessToken), payload: '{"name":"x"}' });
      const body = expectProblem(response, 422, 'VALIDATION_FAILED');
      expect(body.errors, id).toEqual([expect.objectContaining({ field: 'id' })]);
    }
    const missing = await ctx.t.app.inject({ method: 'GET', url: '/v1/products/prd_01jh8x2v3kf6qz9w0c4m5t7r8y', headers: json(admin.accessToken) });
    expect(missing.statusCode).toBe(404);
    const after = await ctx.db.query('SELECT count(*)::int AS n FROM products');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('accepts exactly the money and VAT strings the spec pattern allows', async () => {
    const spec = (await ctx.t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const fields = spec.components.schemas.ProductCreateRequest.properties;
    const money = new RegExp(fields.priceNet.pattern as string);
    const vat = new RegExp(fields.vat.pattern as string);
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    const cases: [string, string][] = [
      ['0', '0'],
      ['0.5', '7.5'],
      ['207.50', '20.00'],
      ['999999999999.99', '100.00'],
      ['12', '100'],
      ['1', '99.99'],
      ['01', '20'],
      ['1.234', '20'],
      ['-1', '20'],
      ['1e3', '20'],
      ['1000000000000', '20'],
      ['.5', '20'],
      ['1', '100.01'],
      ['1', '101'],
      ['1', '05'],
      ['1', '20.001'],
    ];
    for (const [priceNet, rate] of cases) {
      const sku = `sku-${Math.random().toString(36).slice(2)}`;
      const response = await ctx.t.app.inject({
        method: 'POST',
        url: '/v1/products',
        headers: json(admin.accessToken),
        payload: JSON.stringify({ sku, name: 'Thing', priceNet, vat: rate }),
      });
      const valid = money.test(priceNet) && vat.test(rate);
      expect(response.statusCode, `${priceNet} / ${rate}: ${response.body}`).toBe(valid ? 201 : 422);
      const rows = await ctx.db.query('SELECT price_net_minor::text AS net, vat_basis_points AS vat FROM products WHERE sku = $1', [sku]);
      expect(rows.rowCount, `${priceNet} / ${rate}`).toBe(valid ? 1 : 0);
      if (valid) expect(response.json()).toMatchObject({ priceNet: Number(priceNet).toFixed(2), vat: Number(rate).toFixed(2) });
    }
  });
});

describe('long path parameters (issue 8, finding: over 100 characters got an undocumented 400 before authentication)', () => {
  const ctx = useTestApp();

  it.each([101, 1000, 8000])('answers a %i-character id with 401 without a credential, and 422 naming `id` with one', async (length) => {
    const id = `prd_${'a'.repeat(length - 4)}`;
    expectProblem(await ctx.t.app.inject({ method: 'GET', url: `/v1/products/${id}` }), 401, 'UNAUTHORIZED');
    const { accessToken } = await registerAndLogin(ctx.t.app);
    const response = await ctx.t.app.inject({ method: 'GET', url: `/v1/products/${id}`, headers: { authorization: `Bearer ${accessToken}` } });
    const body = expectProblem(response, 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([expect.objectContaining({ field: 'id', code: 'TOO_BIG' })]);
  });

  it('answers a long problem slug on an open route with the documented 422, not a bare 400', async () => {
    const body = expectProblem(await ctx.t.app.inject({ method: 'GET', url: `/problems/${'x'.repeat(500)}` }), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([expect.objectContaining({ field: 'slug' })]);
  });
});
