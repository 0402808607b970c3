import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiKeyUsageRecorder } from '../../src/modules/api-keys/api-key-usage.recorder';
import { generateApiKey } from '../../src/modules/api-keys/api-key-format';
import { insertApiKey } from '../factories/api-keys';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { GEO_ADDRESSES } from '../fixtures/geo-addresses';
import { subscriber, updateSubscription } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

const PROXY = '10.0.0.5';

describe('metering: POST /v1/access/verify and geographic limits (issue 11)', () => {
  const ctx = useTestApp({ env: { TRUST_PROXY: '10.0.0.0/8' } });
  let admin: Awaited<ReturnType<typeof registerAdmin>>;
  let vendorKey: string;
  beforeAll(async () => {
    admin = await registerAdmin(ctx.t.app, ctx.db);
    // What the README tells vendors to hold: a verify key, which can do nothing else.
    vendorKey = (await insertApiKey(ctx.db, { ownerId: admin.user.id, scope: 'verify' })).key;
  });
  afterEach(() => vi.restoreAllMocks());

  const verify = (body: Record<string, unknown>, bearer = vendorKey) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/access/verify',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ apiVersion: 'v1', endpoint: 'orders.create', ...body }),
    });
  const used = async (userId: string) =>
    (await ctx.db.query('SELECT coalesce(sum(used), 0)::int AS n FROM quota_counters WHERE user_id = $1', [userId])).rows[0].n as number;

  /** A customer on `plan` with a live key; a custom plan's fields override a TRIAL-like DAILY v1 "*" of 5. */
  async function customer(plan: string | Record<string, unknown> = 'TRIAL') {
    const user = await subscriber(ctx.t.app, ctx.db);
    const body =
      typeof plan === 'string'
        ? { planName: plan }
        : {
            customPlan: {
              name: 'Custom',
              duration: { unit: 'MONTH', count: 1 },
              limitResetPeriod: 'DAILY',
              geoScope: ['ALL'],
              limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 5 }],
              ...plan,
            },
          };
    expect((await updateSubscription(ctx.t.app, admin.accessToken, { userId: user.user.id, subscriberId: user.accountId, ...body })).statusCode).toBe(200);
    const key = await insertApiKey(ctx.db, { ownerId: user.user.id });
    return { ...user, key: key.key, keyId: key.id };
  }

  it('done-means 4 ALLOWED: counts the call and answers who, which plan, the quota and the rate left', async () => {
    const c = await customer();
    const answer = await verify({ key: c.key, ip: GEO_ADDRESSES.germany.ip });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      allowed: true,
      code: 'ALLOWED',
      subject: { userId: c.user.id, accountId: c.accountId, apiKeyId: c.keyId },
      planCode: 'TRIAL',
      plan: 'TRIAL',
      quota: { limit: 5, remaining: 4, resetsAt: expect.stringMatching(/T00:00:00\.000Z$/) },
      rateLimit: { limit: 100, remaining: 99, resetsAt: expect.any(String) },
    });
    expect(await used(c.user.id)).toBe(1);
    const costly = await verify({ key: c.key, cost: 3 });
    expect(costly.json()).toMatchObject({ allowed: true, quota: { remaining: 1 } });
  });

  it('done-means 4 KEY_INVALID, KEY_EXPIRED, KEY_REVOKED: nothing is counted', async () => {
    const c = await customer();
    expect((await verify({ key: generateApiKey('gate', 'live') })).json()).toMatchObject({
      allowed: false,
      code: 'KEY_INVALID',
      subject: null,
      planCode: null,
      plan: null,
      quota: null,
    });
    expect((await verify({ key: 'not-a-key' })).json()).toMatchObject({ allowed: false, code: 'KEY_INVALID' });
    const expired = await insertApiKey(ctx.db, { ownerId: c.user.id, expiresAt: new Date(Date.now() - 1000) });
    expect((await verify({ key: expired.key })).json()).toMatchObject({
      allowed: false,
      code: 'KEY_EXPIRED',
      subject: { userId: c.user.id, apiKeyId: expired.id },
    });
    const revoked = await insertApiKey(ctx.db, { ownerId: c.user.id, revokedAt: new Date() });
    expect((await verify({ key: revoked.key })).json()).toMatchObject({ allowed: false, code: 'KEY_REVOKED' });
    expect(await used(c.user.id)).toBe(0);
  });

  it('done-means 4 ENDPOINT_NOT_IN_PLAN (issue 19: the name metered routes give it), SUBSCRIPTION_REQUIRED and PAST_DUE consume nothing', async () => {
    const narrow = await customer({ limits: [{ apiVersion: 'v1', endpoint: 'orders.list', maxCalls: 5 }] });
    expect((await verify({ key: narrow.key, endpoint: 'orders.create' })).json()).toMatchObject({
      allowed: false,
      code: 'ENDPOINT_NOT_IN_PLAN',
      planCode: 'CUSTOM',
      plan: 'CUSTOM',
      quota: null,
    });
    expect((await verify({ key: narrow.key, endpoint: 'orders.list' })).json()).toMatchObject({ allowed: true, quota: { limit: 5, remaining: 4 } });
    expect(await used(narrow.user.id)).toBe(1);

    const free = await registerAndLogin(ctx.t.app);
    const freeKey = await insertApiKey(ctx.db, { ownerId: free.user.id });
    expect((await verify({ key: freeKey.key })).json()).toMatchObject({ allowed: false, code: 'SUBSCRIPTION_REQUIRED', plan: 'NONE' });

    const late = await customer();
    await ctx.db.query("UPDATE subscriptions SET status = 'PAST_DUE', expires_at = now() - interval '1 hour' WHERE account_id = $1", [late.accountId]);
    expect((await verify({ key: late.key })).json()).toMatchObject({ allowed: false, code: 'PAST_DUE', plan: 'NONE' });
    expect(await used(late.user.id)).toBe(0);
  });

  it('done-means 4 QUOTA_EXCEEDED: a check that does not fit consumes nothing, a smaller one still fits', async () => {
    const c = await customer();
    expect((await verify({ key: c.key, cost: 4 })).json()).toMatchObject({ allowed: true, quota: { remaining: 1 } });
    expect((await verify({ key: c.key, cost: 2 })).json()).toMatchObject({ allowed: false, code: 'QUOTA_EXCEEDED', quota: { limit: 5, remaining: 1 } });
    expect(await used(c.user.id)).toBe(4);
    expect((await verify({ key: c.key })).json()).toMatchObject({ allowed: true, quota: { remaining: 0 } });
    expect((await verify({ key: c.key })).json()).toMatchObject({ allowed: false, code: 'QUOTA_EXCEEDED' });
    expect(await used(c.user.id)).toBe(5);
  });

  it('done-means 4 GEO_RESTRICTED and RATE_LIMITED consume no quota', async () => {
    const turkish = await customer({ geoScope: ['TURKEY'] });
    expect((await verify({ key: turkish.key, ip: GEO_ADDRESSES.germany.ip })).json()).toMatchObject({ allowed: false, code: 'GEO_RESTRICTED' });
    expect((await verify({ key: turkish.key })).json()).toMatchObject({ allowed: false, code: 'GEO_RESTRICTED' });
    expect((await verify({ key: turkish.key, ip: GEO_ADDRESSES.istanbul.ip })).json()).toMatchObject({ allowed: true });
    expect(await used(turkish.user.id)).toBe(1);

    const slow = await customer({ rateLimit: { count: 2, windowSeconds: 60 } });
    expect((await verify({ key: slow.key })).json()).toMatchObject({ allowed: true, rateLimit: { limit: 2, remaining: 1 } });
    expect((await verify({ key: slow.key })).json()).toMatchObject({ allowed: true, rateLimit: { limit: 2, remaining: 0 } });
    expect((await verify({ key: slow.key })).json()).toMatchObject({
      allowed: false,
      code: 'RATE_LIMITED',
      quota: null,
      rateLimit: { limit: 2, remaining: 0 },
    });
    expect(await used(slow.user.id)).toBe(2);
  });

  it("an ADMIN's key as the customer's: not metered (quota null), its plan shown; a suspended owner's key is KEY_REVOKED", async () => {
    const adminAsCustomer = (await insertApiKey(ctx.db, { ownerId: admin.user.id, scope: 'admin' })).key;
    expect((await verify({ key: adminAsCustomer })).json()).toMatchObject({
      allowed: true,
      code: 'ALLOWED',
      planCode: 'NONE',
      plan: 'NONE',
      quota: null,
      rateLimit: { limit: 100000 },
    });
    const c = await customer();
    await ctx.db.query("UPDATE users SET status = 'SUSPENDED' WHERE id = $1", [c.user.id]);
    expect((await verify({ key: c.key })).json()).toMatchObject({ allowed: false, code: 'KEY_REVOKED', subject: { userId: c.user.id } });
    expect(await used(c.user.id)).toBe(0);
  });

  it("issue 19: an INACTIVE owner's key is ACCOUNT_NOT_ACTIVE, as on Gatehouse's own routes; nothing is counted, the audit says 403", async () => {
    const c = await customer();
    await ctx.db.query("UPDATE users SET status = 'INACTIVE' WHERE id = $1", [c.user.id]);
    expect((await verify({ key: c.key })).json()).toEqual({
      allowed: false,
      code: 'ACCOUNT_NOT_ACTIVE',
      subject: { userId: c.user.id, accountId: c.accountId, apiKeyId: c.keyId },
      planCode: null,
      plan: null,
      quota: null,
      rateLimit: null,
    });
    const own = await ctx.t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: { authorization: `Bearer ${c.key}` } });
    expect(own.json().code).toBe('ACCOUNT_NOT_ACTIVE');
    expect(await used(c.user.id)).toBe(0);
    await ctx.t.app.get(ApiKeyUsageRecorder).flush();
    const audit = await ctx.db.query("SELECT status FROM api_key_audit_log WHERE key_id = $1 AND method = 'VERIFY'", [c.keyId]);
    expect(audit.rows).toEqual([{ status: 403 }]);
  });

  it("issue 19: a verify key presented as the customer's is INSUFFICIENT_SCOPE: it may only check other keys", async () => {
    expect((await verify({ key: vendorKey })).json()).toMatchObject({
      allowed: false,
      code: 'INSUFFICIENT_SCOPE',
      subject: { userId: admin.user.id },
      planCode: null,
      plan: null,
      quota: null,
    });
  });

  describe('issue 19: the NONE plan in verify', () => {
    const call = (method: 'GET' | 'PATCH', url: string, body?: unknown) =>
      ctx.t.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${admin.accessToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { payload: JSON.stringify(body) } : {}),
      });
    const noneTerms = async () => (await call('GET', '/v1/subscriptions/plans')).json().items.find((plan: { code: string }) => plan.code === 'NONE');
    const counters = async (userId: string) =>
      (await ctx.db.query('SELECT api_version, endpoint, used FROM quota_counters WHERE user_id = $1 ORDER BY endpoint', [userId])).rows;

    it('an endpoint the NONE plan names is checked against that limit; its "*" (the free tier of Gatehouse\'s own API) does not count', async () => {
      const before = await noneTerms();
      const named = [...before.limits, { apiVersion: 'v1', endpoint: 'orders.search', maxCalls: 2 }];
      expect((await call('PATCH', '/v1/subscriptions/plans/NONE', { limits: named })).statusCode).toBe(200);
      try {
        const free = await registerAndLogin(ctx.t.app);
        const freeKey = await insertApiKey(ctx.db, { ownerId: free.user.id });
        const first = (await verify({ key: freeKey.key, endpoint: 'orders.search' })).json();
        expect(first).toMatchObject({ allowed: true, code: 'ALLOWED', plan: 'NONE', quota: { limit: 2, remaining: 1 } });
        expect((await verify({ key: freeKey.key, endpoint: 'orders.search' })).json()).toMatchObject({ allowed: true, quota: { remaining: 0 } });
        expect((await verify({ key: freeKey.key, endpoint: 'orders.search' })).json()).toMatchObject({ allowed: false, code: 'QUOTA_EXCEEDED' });
        // Only through "*": still no plan for it.
        expect((await verify({ key: freeKey.key, endpoint: 'orders.create' })).json()).toMatchObject({ allowed: false, code: 'SUBSCRIPTION_REQUIRED' });
        expect(await counters(free.user.id)).toEqual([{ api_version: 'v1', endpoint: 'orders.search', used: 2 }]);

        // A customer whose payment failed is on NONE too: the named endpoint is free for them as well.
        const late = await customer();
        await ctx.db.query("UPDATE subscriptions SET status = 'PAST_DUE', expires_at = now() - interval '1 hour' WHERE account_id = $1", [late.accountId]);
        expect((await verify({ key: late.key, endpoint: 'orders.search' })).json()).toMatchObject({ allowed: true, plan: 'NONE' });
        expect((await verify({ key: late.key, endpoint: 'orders.create' })).json()).toMatchObject({ allowed: false, code: 'PAST_DUE' });
      } finally {
        expect((await call('PATCH', '/v1/subscriptions/plans/NONE', { limits: before.limits })).statusCode).toBe(200);
      }
    });

    it('a NONE plan that names nothing but "*" refuses every endpoint with SUBSCRIPTION_REQUIRED, "*" included', async () => {
      expect((await noneTerms()).limits).toEqual([{ apiVersion: 'v1', endpoint: '*', maxCalls: 1000 }]);
      const free = await registerAndLogin(ctx.t.app);
      const freeKey = await insertApiKey(ctx.db, { ownerId: free.user.id });
      for (const endpoint of ['orders.search', 'orders.create']) {
        expect((await verify({ key: freeKey.key, endpoint })).json()).toMatchObject({ allowed: false, code: 'SUBSCRIPTION_REQUIRED', plan: 'NONE' });
      }
      expect(await counters(free.user.id)).toEqual([]);
    });
  });

  it('without a valid credential the route is an open one, limited per IP by the public policy, not the generous verify one', async () => {
    const anonymous = await ctx.t.app.inject({ method: 'POST', url: '/v1/access/verify', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['x-ratelimit-limit']).toBe('100000');
    const forged = await verify({ key: 'x' }, generateApiKey('gate', 'live'));
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['x-ratelimit-limit']).toBe('100000');
    expect((await verify({ key: 'x' })).headers['x-ratelimit-limit']).toBe('600000');
  });

  it('done-means 4: only an ADMIN may verify: a customer key, or a read-write key of an ADMIN, is 403', async () => {
    const c = await customer();
    const byCustomer = await verify({ key: c.key }, c.key);
    expect(byCustomer.statusCode).toBe(403);
    const lesserAdminKey = (await insertApiKey(ctx.db, { ownerId: admin.user.id, scope: 'read-write' })).key;
    expect((await verify({ key: c.key }, lesserAdminKey)).statusCode).toBe(403);
    expect(await used(c.user.id)).toBe(0);
    const bad = await verify({ key: c.key, cost: 1001, endpoint: '*', apiVersion: 'one' });
    expect(bad.statusCode).toBe(422);
    expect(
      bad
        .json()
        .errors.map((error: { field: string }) => error.field)
        .sort(),
    ).toEqual(['apiVersion', 'cost', 'endpoint']);
  });

  it("done-means 4: each check counts in the customer key's usage statistics under the endpoint name", async () => {
    const c = await customer();
    await verify({ key: c.key, endpoint: 'reports.build' });
    const revoked = await insertApiKey(ctx.db, { ownerId: c.user.id, revokedAt: new Date() });
    await verify({ key: revoked.key, endpoint: 'reports.build' });
    await ctx.t.app.get(ApiKeyUsageRecorder).flush();
    const audit = await ctx.db.query('SELECT key_id, method, route, status FROM api_key_audit_log WHERE key_id = ANY($1) ORDER BY key_id', [
      [c.keyId, revoked.id],
    ]);
    expect(audit.rows).toEqual(
      expect.arrayContaining([
        { key_id: c.keyId, method: 'VERIFY', route: 'v1 reports.build', status: 200 },
        { key_id: revoked.id, method: 'VERIFY', route: 'v1 reports.build', status: 401 },
      ]),
    );
    const usage = await ctx.db.query('SELECT request_count FROM api_key_usage WHERE key_id = $1', [c.keyId]);
    expect(usage.rows[0].request_count).toBe(1);
  });

  describe('done-means 5: geographic scopes on Gatehouse endpoints, the client placed by X-Forwarded-For from a trusted proxy', () => {
    const getAllFrom = (key: string, ip: string) =>
      ctx.t.app.inject({
        method: 'GET',
        url: '/api/integration/products/getAll',
        remoteAddress: PROXY,
        headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': ip },
      });

    it('a Marmara address passes [MARMARA]; an Aegean one is refused, naming the country but never the address', async () => {
      const c = await customer({ geoScope: ['MARMARA'] });
      expect((await getAllFrom(c.key, GEO_ADDRESSES.istanbul.ip)).statusCode).toBe(200);
      const aegean = await getAllFrom(c.key, GEO_ADDRESSES.izmir.ip);
      expect(aegean.statusCode).toBe(401);
      expect(aegean.json()).toMatchObject({ status: 403, code: 'GEO_RESTRICTED' });
      expect(aegean.body).not.toContain(GEO_ADDRESSES.izmir.ip);
    });

    it('a German address passes EUROPE and fails TURKEY', async () => {
      const europe = await customer({ geoScope: ['EUROPE'] });
      expect((await getAllFrom(europe.key, GEO_ADDRESSES.germany.ip)).statusCode).toBe(200);
      const turkey = await customer({ geoScope: ['TURKEY'] });
      expect((await getAllFrom(turkey.key, GEO_ADDRESSES.germany.ip)).json()).toMatchObject({ code: 'GEO_RESTRICTED' });
    });

    it('a private address passes only ALL', async () => {
      const everywhere = await customer({ geoScope: ['ALL'] });
      expect((await getAllFrom(everywhere.key, GEO_ADDRESSES.private.ip)).statusCode).toBe(200);
      const world = await customer({ geoScope: ['WORLD', 'EUROPE', 'ASIA', 'TURKEY'] });
      expect((await getAllFrom(world.key, GEO_ADDRESSES.private.ip)).json()).toMatchObject({ code: 'GEO_RESTRICTED' });
      expect(await used(world.user.id)).toBe(0);
    });
  });
});
