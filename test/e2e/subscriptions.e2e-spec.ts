import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate';
import { insertAccount } from '../factories/accounts';
import { registerAndLogin, registerInactiveAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { changesOf, setClock, subscriber, updateSubscription } from '../helpers/subscriptions';
import { useAdmin } from '../helpers/signed-in';
import { useTestApp } from '../helpers/test-app';

const PRESETS = ['NONE', 'TRIAL', 'ENTRY_MONTHLY', 'ENTRY_YEARLY', 'PREMIUM_MONTHLY', 'PREMIUM_YEARLY'];

describe('subscriptions: plans, update-subscription (issue 10)', () => {
  const ctx = useTestApp();
  const admin = useAdmin(ctx);
  afterEach(() => vi.restoreAllMocks());

  const call = callerFor(ctx);
  const update = (token: string, body: unknown) => updateSubscription(ctx.t.app, token, body);
  const me = (token: string) => call('GET', '/v1/subscriptions/me', token);

  it('done-means 1: a fresh migrate has the six presets and no CUSTOM plan; re-running the seed adds nothing and keeps ADMIN edits', async () => {
    const { rows } = await ctx.db.query("SELECT code FROM plans WHERE code <> 'CUSTOM' ORDER BY code");
    expect(rows.map((row) => row.code).sort()).toEqual([...PRESETS].sort());
    await ctx.db.query("UPDATE plans SET rate_limit_count = 123 WHERE code = 'TRIAL'");
    const migration = readFileSync(join(MIGRATIONS_FOLDER, '0013_subscriptions.sql'), 'utf8');
    const seed = migration.slice(migration.indexOf('INSERT INTO "plans"'));
    await ctx.db.query(seed);
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM plans')).rows[0].n).toBe(6);
    expect((await ctx.db.query("SELECT rate_limit_count FROM plans WHERE code = 'TRIAL'")).rows[0].rate_limit_count).toBe(123);
    await ctx.db.query("UPDATE plans SET rate_limit_count = 100 WHERE code = 'TRIAL'");
  });

  it('done-means 1: GET /v1/subscriptions/plans works without auth, and in Turkish with Accept-Language: tr', async () => {
    const english = await ctx.t.app.inject({ method: 'GET', url: '/v1/subscriptions/plans' });
    expect(english.statusCode).toBe(200);
    const items = english.json().items;
    expect(items.map((plan: { code: string }) => plan.code)).toEqual(PRESETS);
    expect(items[0]).toEqual({
      code: 'NONE',
      name: 'Free',
      duration: null,
      limitResetPeriod: 'DAILY',
      geoScope: ['ALL'],
      limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 1000 }],
      rateLimit: { count: 100, windowSeconds: 60 },
      price: '0.00',
      currency: 'USD',
      stripePriceId: null,
    });
    expect(items[1]).toMatchObject({
      code: 'TRIAL',
      duration: { unit: 'MONTH', count: 1 },
      limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 5 }],
      geoScope: ['ALL'],
    });
    const turkish = await ctx.t.app.inject({ method: 'GET', url: '/v1/subscriptions/plans', headers: { 'accept-language': 'tr' } });
    expect(turkish.json().items.map((plan: { name: string }) => plan.name)).toEqual([
      'Ücretsiz',
      'Deneme',
      'Başlangıç (aylık)',
      'Başlangıç (yıllık)',
      'Premium (aylık)',
      'Premium (yıllık)',
    ]);
  });

  it('done-means 2: a new user reads NONE; after activation TRIAL works once, and a second TRIAL is 409 TRIAL_ALREADY_USED', async () => {
    const fresh = await registerInactiveAndLogin(ctx.t.app);
    const none = await me(fresh.accessToken);
    expect(none.statusCode).toBe(200);
    expect(none.json()).toMatchObject({
      accountId: null,
      userId: fresh.user.id,
      planCode: 'NONE',
      plan: 'NONE',
      status: 'NONE',
      currentPeriodStart: null,
      expiresAt: null,
      limits: [{ endpoint: '*', maxCalls: 1000 }],
    });

    const user = await subscriber(ctx.t.app, ctx.db);
    expect((await me(user.accessToken)).json()).toMatchObject({ accountId: user.accountId, plan: 'NONE', status: 'NONE' });
    const start = new Date('2026-03-31T09:00:00.000Z');
    setClock(ctx.t.app, start);
    const trial = await update(user.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' });
    expect(trial.statusCode, trial.body).toBe(200);
    expect(trial.json()).toMatchObject({
      planCode: 'TRIAL',
      plan: 'TRIAL',
      status: 'TRIALING',
      currentPeriodStart: start.toISOString(),
      currentPeriodEnd: '2026-04-30T09:00:00.000Z',
      expiresAt: '2026-04-30T09:00:00.000Z',
    });
    expect((await me(user.accessToken)).json()).toEqual({
      ...trial.json(),
      usage: [expect.objectContaining({ apiVersion: 'v1', endpoint: '*', used: 0, limit: 5 })],
    });

    // Cancelled in between, TRIAL is still spent.
    expect((await update(user.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'NONE' })).json()).toMatchObject({
      planCode: 'NONE',
      plan: 'NONE',
      status: 'CANCELED',
    });
    const again = await update(user.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('TRIAL_ALREADY_USED');
    const byAdmin = await update(admin().accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' });
    expect(byAdmin.json().code).toBe('TRIAL_ALREADY_USED');
    const { history } = await changesOf(ctx.db, user.accountId);
    expect(history.map((row) => [row.plan_code, row.source])).toEqual([
      ['TRIAL', 'USER'],
      ['NONE', 'USER'],
    ]);
  });

  it('done-means 3: an inactive account is 403 ACCOUNT_NOT_ACTIVE, another userId 403, another subscriberId 404; nothing is written', async () => {
    const inactive = await registerInactiveAndLogin(ctx.t.app);
    const pendingOfInactive = (await insertAccount(ctx.db, { userId: inactive.user.id, status: 'PENDING' })).id;
    const gated = await update(inactive.accessToken, { userId: inactive.user.id, subscriberId: pendingOfInactive, planName: 'TRIAL' });
    expect([gated.statusCode, gated.json().code]).toEqual([403, 'ACCOUNT_NOT_ACTIVE']);

    // The user is ACTIVE, its account is not: the account itself is checked, for an ADMIN too.
    const activeUser = await registerAndLogin(ctx.t.app);
    const pending = (await insertAccount(ctx.db, { userId: activeUser.user.id, status: 'PENDING' })).id;
    for (const token of [activeUser.accessToken, admin().accessToken]) {
      const refused = await update(token, { userId: activeUser.user.id, subscriberId: pending, planName: 'TRIAL' });
      expect([refused.statusCode, refused.json().code]).toEqual([403, 'ACCOUNT_NOT_ACTIVE']);
    }

    const alice = await subscriber(ctx.t.app, ctx.db);
    const bob = await subscriber(ctx.t.app, ctx.db);
    const otherUser = await update(alice.accessToken, { userId: bob.user.id, subscriberId: bob.accountId, planName: 'TRIAL' });
    expect([otherUser.statusCode, otherUser.json().code]).toEqual([403, 'FORBIDDEN']);
    const otherAccount = await update(alice.accessToken, { userId: alice.user.id, subscriberId: bob.accountId, planName: 'TRIAL' });
    expect([otherAccount.statusCode, otherAccount.json().code]).toEqual([404, 'NOT_FOUND']);
    const adminWrongPair = await update(admin().accessToken, { userId: alice.user.id, subscriberId: bob.accountId, planName: 'TRIAL' });
    expect(adminWrongPair.statusCode).toBe(404);
    // Nor may a user read another account's subscription.
    expect((await call('GET', `/v1/subscriptions/${bob.accountId}`, alice.accessToken)).statusCode).toBe(403);

    for (const accountId of [pendingOfInactive, pending, alice.accountId, bob.accountId]) {
      expect((await ctx.db.query('SELECT 1 FROM subscriptions WHERE account_id = $1', [accountId])).rowCount).toBe(0);
      expect(await changesOf(ctx.db, accountId)).toEqual({ history: [], events: [] });
    }
  });

  it('done-means 4: a non-ADMIN choosing PREMIUM_MONTHLY is 402 PAYMENT_REQUIRED naming the checkout; an ADMIN assigns it for one month', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const paid = await update(user.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'PREMIUM_MONTHLY' });
    expect([paid.statusCode, paid.json().code]).toEqual([402, 'PAYMENT_REQUIRED']);
    expect(paid.json().detail).toContain('POST /v1/subscriptions/checkout');
    expect(await changesOf(ctx.db, user.accountId)).toEqual({ history: [], events: [] });

    const start = new Date('2026-01-31T10:00:00.000Z');
    setClock(ctx.t.app, start);
    const assigned = await update(admin().accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'PREMIUM_MONTHLY' });
    expect(assigned.statusCode, assigned.body).toBe(200);
    expect(assigned.json()).toMatchObject({
      planCode: 'PREMIUM_MONTHLY',
      plan: 'PREMIUM_MONTHLY',
      status: 'ACTIVE',
      currentPeriodStart: start.toISOString(),
      currentPeriodEnd: '2026-02-28T10:00:00.000Z',
      limitResetPeriod: 'MONTHLY',
      limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 1_000_000 }],
    });
    const { history } = await changesOf(ctx.db, user.accountId);
    expect(history).toMatchObject([
      { source: 'ADMIN', actor_user_id: admin().user.id, previous_plan_code: 'NONE', plan_code: 'PREMIUM_MONTHLY', status: 'ACTIVE' },
    ]);
  });

  const customPlan = {
    name: 'Acme 90-day',
    duration: { unit: 'DAY', count: 90 },
    limitResetPeriod: 'DAILY',
    geoScope: ['MARMARA', 'AEGEAN'],
    limits: [
      { apiVersion: 'v1', endpoint: 'integration.products.getAll', maxCalls: 500 },
      { apiVersion: 'v1', endpoint: 'access.verify', maxCalls: 20_000 },
    ],
    rateLimit: { count: 30, windowSeconds: 60 },
  };

  it('done-means 5: an ADMIN creates a custom plan that reads back exactly; a non-ADMIN trying is 403 and writes no plan', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const refused = await update(user.accessToken, { userId: user.user.id, subscriberId: user.accountId, customPlan });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'FORBIDDEN']);
    expect((await ctx.db.query('SELECT 1 FROM plans WHERE account_id = $1', [user.accountId])).rowCount).toBe(0);

    const start = new Date('2026-02-01T00:00:00.000Z');
    setClock(ctx.t.app, start);
    const created = await update(admin().accessToken, { userId: user.user.id, subscriberId: user.accountId, customPlan });
    expect(created.statusCode, created.body).toBe(200);
    const expected = {
      accountId: user.accountId,
      userId: user.user.id,
      planCode: 'CUSTOM',
      plan: 'CUSTOM',
      planName: 'Acme 90-day',
      status: 'ACTIVE',
      currentPeriodStart: start.toISOString(),
      currentPeriodEnd: '2026-05-02T00:00:00.000Z',
      expiresAt: '2026-05-02T00:00:00.000Z',
      cancelAtPeriodEnd: false,
      limitResetPeriod: 'DAILY',
      geoScope: ['MARMARA', 'AEGEAN'],
      limits: customPlan.limits,
      rateLimit: customPlan.rateLimit,
    };
    expect(created.json()).toEqual(expected);
    expect((await me(user.accessToken)).json()).toEqual({ ...expected, usage: expect.any(Array) });
    expect((await call('GET', `/v1/subscriptions/${user.accountId}`, admin().accessToken)).json()).toEqual(expected);
    const plans = await ctx.db.query('SELECT code, duration_unit, duration_count, geo_scope FROM plans WHERE account_id = $1', [user.accountId]);
    expect(plans.rows).toEqual([{ code: 'CUSTOM', duration_unit: 'DAY', duration_count: 90, geo_scope: '{MARMARA,AEGEAN}' }]);
  });

  it.each([
    ['an unknown plan', { planCode: 'GOLD' }, 'planCode'],
    ['an unknown plan by the deprecated planName', { planName: 'GOLD' }, 'planName'],
    ['CUSTOM as a preset code', { planCode: 'CUSTOM' }, 'planCode'],
    ['neither planCode nor customPlan', {}, 'planCode'],
    ['planCode and the deprecated planName naming different plans', { planCode: 'TRIAL', planName: 'NONE' }, 'planName'],
    ['a zero duration', { customPlan: { ...customPlan, duration: { unit: 'DAY', count: 0 } } }, 'customPlan.duration.count'],
    ['an unknown duration unit', { customPlan: { ...customPlan, duration: { unit: 'WEEK', count: 2 } } }, 'customPlan.duration.unit'],
    ['a duration over ten years', { customPlan: { ...customPlan, duration: { unit: 'YEAR', count: 11 } } }, 'customPlan.duration.count'],
    ['an unknown geo scope', { customPlan: { ...customPlan, geoScope: ['MARMARA', 'NARNIA'] } }, 'customPlan.geoScope.1'],
    [
      'duplicate limits',
      { customPlan: { ...customPlan, limits: [customPlan.limits[0], { ...customPlan.limits[0], maxCalls: 9 }] } },
      'customPlan.limits.1.endpoint',
    ],
    ['maxCalls below 1', { customPlan: { ...customPlan, limits: [{ ...customPlan.limits[0], maxCalls: 0 }] } }, 'customPlan.limits.0.maxCalls'],
    ['an unknown reset period', { customPlan: { ...customPlan, limitResetPeriod: 'WEEKLY' } }, 'customPlan.limitResetPeriod'],
  ])('done-means 5: %s is 422 naming the field, and writes nothing', async (_case, body, field) => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const response = await update(admin().accessToken, { userId: user.user.id, subscriberId: user.accountId, ...body });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json().errors.map((error: { field: string }) => error.field)).toContain(field);
    expect((await ctx.db.query('SELECT 1 FROM plans WHERE account_id = $1', [user.accountId])).rowCount).toBe(0);
    expect(await changesOf(ctx.db, user.accountId)).toEqual({ history: [], events: [] });
  });

  it("field errors are translated into the signed-in user's language", async () => {
    const user = await registerAndLogin(ctx.t.app, { language: 'tr' });
    const accountId = (await insertAccount(ctx.db, { userId: user.user.id, status: 'ACTIVE', emailVerified: true })).id;
    const response = await update(user.accessToken, { userId: user.user.id, subscriberId: accountId, planCode: 'TRIAL', customPlan });
    expect(response.json().errors).toEqual([{ field: 'planCode', code: 'ONE_PLAN', message: 'planCode ya da customPlan alanlarından yalnızca birini verin' }]);
    const legacy = await update(user.accessToken, { planName: 'TRIAL', customPlan });
    expect(legacy.json().errors).toEqual([{ field: 'planName', code: 'ONE_PLAN', message: 'planCode ya da customPlan alanlarından yalnızca birini verin' }]);
  });

  it('done-means 9: the README plans table states the seeded presets, and its update-subscription examples work as written', async () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Subscriptions'), readme.indexOf('### Rate limits'));
    const table = new Map(
      section
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .map((line) => line.split('|').map((cell) => cell.trim()))
        .map((cells) => [cells[1]!.replaceAll('`', ''), cells] as const),
    );
    const plans = (await ctx.t.app.inject({ method: 'GET', url: '/v1/subscriptions/plans' })).json().items;
    for (const plan of plans) {
      const [, , , , limits, rate, price] = table.get(plan.code) ?? [];
      expect(limits, plan.code).toContain(plan.limits[0].maxCalls.toLocaleString('en-US'));
      expect(rate, plan.code).toBe(`${plan.rateLimit.count.toLocaleString('en-US')}/min`);
      expect(price, plan.code).toContain(plan.price);
    }
    expect(table.has('CUSTOM')).toBe(true);

    const updating = section.slice(0, section.indexOf('#### Paying through Stripe'));
    const [own, custom, ...others] = [...updating.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1]!) as Record<string, unknown>);
    expect(others).toEqual([]);
    // A customer's own choice, sent as written: no ids.
    const customer = await subscriber(ctx.t.app, ctx.db);
    const chosen = await update(customer.accessToken, own);
    expect(chosen.statusCode, chosen.body).toBe(200);
    expect(chosen.json()).toMatchObject({ accountId: customer.accountId, planCode: own!.planCode });
    // The ADMIN's custom plan, for the user it names.
    const user = await subscriber(ctx.t.app, ctx.db);
    const assigned = await update(admin().accessToken, { ...custom, userId: user.user.id });
    expect(assigned.statusCode, assigned.body).toBe(200);
    expect(assigned.json()).toMatchObject({ accountId: user.accountId, planCode: 'CUSTOM' });
    // Its geo scope does not lock out the machine trying it: a metered call from loopback gets in.
    const fromHere = await ctx.t.app.inject({
      method: 'GET',
      url: '/api/integration/products/getAll',
      remoteAddress: '127.0.0.1',
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(fromHere.statusCode, fromHere.body).toBe(200);
  });

  it('the README note on geo scopes holds: a scope without ALL refuses a loopback or private caller, with no country', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const restricted = { ...customPlan, geoScope: ['MARMARA', 'AEGEAN'] };
    expect((await update(admin().accessToken, { userId: user.user.id, customPlan: restricted })).statusCode).toBe(200);
    for (const remoteAddress of ['127.0.0.1', '::1', '192.168.1.20', '10.0.0.7']) {
      const refused = await ctx.t.app.inject({
        method: 'GET',
        url: '/api/integration/products/getAll',
        remoteAddress,
        headers: { authorization: `Bearer ${user.accessToken}` },
      });
      // The integration format sends a 403 as HTTP 401 with status 403.
      expect([refused.statusCode, refused.json().status, refused.json().code], remoteAddress).toEqual([401, 403, 'GEO_RESTRICTED']);
      expect(refused.json().country).toBeUndefined();
    }
  });
});
