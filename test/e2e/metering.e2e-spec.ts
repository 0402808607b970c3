import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Retention } from '../../src/common/background';
import { ProbeModule } from '../fixtures/probe.module';
import { insertApiKey } from '../factories/api-keys';
import { registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { Mailbox } from '../helpers/mailbox';
import { setClock, subscriber, updateSubscription } from '../helpers/subscriptions';
import { useAdmin } from '../helpers/signed-in';
import { useTestApp } from '../helpers/test-app';

const GET_ALL = '/api/integration/products/getAll';
const DAY_MS = 86_400_000;

describe('metering: quotas on Gatehouse endpoints (issue 11)', () => {
  const mailbox = new Mailbox();
  afterAll(() => mailbox.stop());
  const ctx = useTestApp(async () => ({ env: { SMTP_URL: await mailbox.start() }, extraModules: [ProbeModule] }));
  const admin = useAdmin(ctx);
  afterEach(() => vi.restoreAllMocks());

  const call = callerFor(ctx);
  const getAll = (token: string) => call('GET', GET_ALL, token);
  const counters = async (userId: string) =>
    (await ctx.db.query('SELECT endpoint, used, window_start, window_end FROM quota_counters WHERE user_id = $1 ORDER BY window_start', [userId])).rows;

  /** A subscriber on `plan` (a preset code, or a custom plan body), assigned by the ADMIN at the clock's time. */
  async function onPlan(plan: string | Record<string, unknown>) {
    const user = await subscriber(ctx.t.app, ctx.db);
    const body = typeof plan === 'string' ? { planName: plan } : { customPlan: plan };
    const assigned = await updateSubscription(ctx.t.app, admin().accessToken, { userId: user.user.id, subscriberId: user.accountId, ...body });
    expect(assigned.statusCode).toBe(200);
    // An API key too: an access token is judged against the real time, and some tests move the clock back.
    return { ...user, apiKey: (await insertApiKey(ctx.db, { ownerId: user.user.id })).key };
  }

  const customPlan = (overrides: Record<string, unknown>) => ({
    name: 'Metered',
    duration: { unit: 'MONTH', count: 12 },
    limitResetPeriod: 'DAILY',
    geoScope: ['ALL'],
    limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 2 }],
    ...overrides,
  });

  it('done-means 1: on TRIAL the 6th getAll in a UTC day is 429 QUOTA_EXCEEDED with Retry-After and X-Quota-*; past midnight UTC it is allowed again', async () => {
    const noon = new Date('2026-12-03T12:00:00.000Z');
    setClock(ctx.t.app, noon);
    const user = await onPlan('TRIAL');
    for (let i = 1; i <= 5; i++) {
      const allowed = await getAll(user.apiKey);
      expect(allowed.statusCode).toBe(200);
      expect(allowed.headers).toMatchObject({
        'x-quota-limit': '5',
        'x-quota-remaining': String(5 - i),
        'x-quota-reset': String(Date.parse('2026-12-04T00:00:00Z') / 1000),
      });
    }
    const refused = await getAll(user.apiKey);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe(String(12 * 3600));
    expect(refused.headers).toMatchObject({ 'x-quota-limit': '5', 'x-quota-remaining': '0', 'x-ratelimit-limit': '100' });
    // The integration format of getAll, with our code and which limit it was.
    expect(refused.json()).toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED', type: expect.stringContaining('/probs/business') });
    // The members the README promises, as extension members of the integration problem.
    expect(refused.json()).toMatchObject({ limit: 5, apiVersion: 'v1', endpoint: '*', resetsAt: '2026-12-04T00:00:00.000Z', retryAfter: 12 * 3600 });
    expect(refused.json().detail).toContain('5');

    setClock(ctx.t.app, new Date('2026-12-04T00:00:01.000Z'));
    const nextDay = await getAll(user.apiKey);
    expect(nextDay.statusCode).toBe(200);
    expect(nextDay.headers['x-quota-remaining']).toBe('4');
    expect((await counters(user.user.id)).map((row) => row.used)).toEqual([5, 1]);
  });

  it('done-means 2: 20 parallel calls with 5 left are exactly 5 × 200; the refused ones count nothing', async () => {
    const user = await onPlan('TRIAL');
    const answers = await Promise.all(Array.from({ length: 20 }, () => getAll(user.accessToken)));
    const statuses = answers.map((answer) => answer.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    expect((await counters(user.user.id)).map((row) => row.used)).toEqual([5]);
  });

  it('done-means 2: a call that ends in a 5xx gives its unit back', async () => {
    const user = await onPlan('TRIAL');
    for (let i = 0; i < 3; i++) expect((await call('GET', '/test-probe/metered-crash', user.accessToken)).statusCode).toBe(500);
    await vi.waitFor(async () => expect((await counters(user.user.id)).map((row) => row.used)).toEqual([0]));
    for (let i = 0; i < 5; i++) expect((await getAll(user.accessToken)).statusCode).toBe(200);
    expect((await getAll(user.accessToken)).statusCode).toBe(429);
  });

  it('done-means 3: MONTHLY from Jan 31 resets on the last day of February, then on Mar 31', async () => {
    setClock(ctx.t.app, new Date('2026-01-31T10:00:00.000Z'));
    const user = await onPlan(customPlan({ limitResetPeriod: 'MONTHLY' }));
    for (let i = 0; i < 2; i++) expect((await getAll(user.apiKey)).statusCode).toBe(200);
    setClock(ctx.t.app, new Date('2026-02-28T09:59:59.000Z'));
    const spent = await getAll(user.apiKey);
    expect(spent.statusCode).toBe(429);
    expect(spent.headers['x-quota-reset']).toBe(String(Date.parse('2026-02-28T10:00:00Z') / 1000));
    expect(spent.headers['retry-after']).toBe('1');
    setClock(ctx.t.app, new Date('2026-02-28T10:00:00.000Z'));
    const renewed = await getAll(user.apiKey);
    expect(renewed.statusCode).toBe(200);
    expect(renewed.headers['x-quota-reset']).toBe(String(Date.parse('2026-03-31T10:00:00Z') / 1000));
  });

  it('done-means 3: YEARLY windows run a year from the period start', async () => {
    setClock(ctx.t.app, new Date('2028-02-29T00:00:00.000Z'));
    const user = await onPlan(customPlan({ limitResetPeriod: 'YEARLY', duration: { unit: 'YEAR', count: 3 } }));
    for (let i = 0; i < 2; i++) expect((await getAll(user.accessToken)).statusCode).toBe(200);
    setClock(ctx.t.app, new Date('2029-02-27T23:59:59.000Z'));
    const spent = await getAll(user.accessToken);
    expect(spent.statusCode).toBe(429);
    expect(spent.headers['x-quota-reset']).toBe(String(Date.parse('2029-02-28T00:00:00Z') / 1000));
    setClock(ctx.t.app, new Date('2029-02-28T00:00:00.000Z'));
    expect((await getAll(user.accessToken)).statusCode).toBe(200);
  });

  it('issue 19: a MONTHLY window ends with a shorter term: on day 31 of a 45-day term the quota resets at the term end, not a month on', async () => {
    const start = new Date('2026-03-01T00:00:00.000Z');
    setClock(ctx.t.app, start);
    const user = await onPlan(customPlan({ limitResetPeriod: 'MONTHLY', duration: { unit: 'DAY', count: 45 } }));
    setClock(ctx.t.app, new Date(start.getTime() + 31 * DAY_MS));
    const answer = await getAll(user.apiKey);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['x-quota-reset']).toBe(String((start.getTime() + 45 * DAY_MS) / 1000));
    expect((await counters(user.user.id)).map((row) => row.window_end.toISOString())).toEqual([new Date(start.getTime() + 45 * DAY_MS).toISOString()]);
  });

  it('done-means 3: NONE reset is one allowance for the whole term, resetting only when the term ends', async () => {
    const start = new Date('2026-05-01T00:00:00.000Z');
    setClock(ctx.t.app, start);
    const user = await onPlan(customPlan({ limitResetPeriod: 'NONE', duration: { unit: 'DAY', count: 90 } }));
    for (let i = 0; i < 2; i++) expect((await getAll(user.apiKey)).statusCode).toBe(200);
    setClock(ctx.t.app, new Date(start.getTime() + 60 * DAY_MS));
    const spent = await getAll(user.apiKey);
    expect(spent.statusCode).toBe(429);
    expect(spent.headers['x-quota-reset']).toBe(String((start.getTime() + 90 * DAY_MS) / 1000));
    expect(spent.json().code).toBe('QUOTA_EXCEEDED');
  });

  it('refuses a NONE caller with 403 SUBSCRIPTION_REQUIRED (sent as 401 with status 403 on getAll), an endpoint outside the plan with ENDPOINT_NOT_IN_PLAN, and meters no ADMIN', async () => {
    const free = await registerAndLogin(ctx.t.app);
    const refused = await getAll(free.accessToken);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ status: 403, code: 'SUBSCRIPTION_REQUIRED' });

    const narrow = await onPlan(customPlan({ limits: [{ apiVersion: 'v1', endpoint: 'orders.create', maxCalls: 10 }] }));
    const outside = await getAll(narrow.accessToken);
    expect(outside.json()).toMatchObject({ status: 403, code: 'ENDPOINT_NOT_IN_PLAN' });

    for (let i = 0; i < 3; i++) expect((await getAll(admin().accessToken)).statusCode).toBe(200);
    expect(await counters(admin().user.id)).toEqual([]);
    // The catalog a customer browses before buying stays free.
    expect((await call('GET', '/v1/products', free.accessToken)).statusCode).toBe(200);
  });

  it('done-means 6: 80% and 100% alerts fire once per window under 20 parallel calls: one outbox row and one mail each', async () => {
    const user = await onPlan(customPlan({ limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 10 }] }));
    const answers = await Promise.all(Array.from({ length: 20 }, () => getAll(user.accessToken)));
    expect(answers.filter((answer) => answer.statusCode === 200)).toHaveLength(10);
    const events = async () =>
      (
        await ctx.db.query("SELECT type, payload FROM outbox_messages WHERE type LIKE 'subscription.quota.%' AND payload->>'userId' = $1 ORDER BY type", [
          user.user.id,
        ])
      ).rows;
    await vi.waitFor(async () => expect((await events()).map((row) => row.type)).toEqual(['subscription.quota.exceeded', 'subscription.quota.warning']));
    await vi.waitFor(() => expect(mailbox.to(user.input.email)).toHaveLength(2));
    const [exceeded, warning] = await events();
    // `used` is what the window held when the alert was raised: 8 or more, as calls race past 80%.
    expect(warning.payload).toMatchObject({ planCode: 'CUSTOM', plan: 'CUSTOM', apiVersion: 'v1', endpoint: '*', limit: 10 });
    expect(warning.payload.used).toBeGreaterThanOrEqual(8);
    expect(exceeded.payload).toMatchObject({ limit: 10, used: 10, accountId: user.accountId });
    expect(
      mailbox
        .to(user.input.email)
        .map((mail) => mail.subject)
        .sort(),
    ).toEqual(['You have used 80% of your Gatehouse quota', 'Your Gatehouse quota is used up']);
    // More refused calls in the same window send nothing more.
    expect((await getAll(user.accessToken)).statusCode).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await events()).toHaveLength(2);
    expect(mailbox.to(user.input.email)).toHaveLength(2);
  });

  it('issue 19: one call that crosses 80% and 100% at once (a cost from 7 to 10 of 10) sends only the 100% alert', async () => {
    const user = await onPlan(customPlan({ limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 10 }] }));
    const verify = (cost: number) =>
      call('POST', '/v1/access/verify', admin().accessToken, { key: user.apiKey, apiVersion: 'v1', endpoint: 'reports.build', cost });
    expect((await verify(7)).json()).toMatchObject({ allowed: true, quota: { remaining: 3 } });
    expect((await verify(3)).json()).toMatchObject({ allowed: true, quota: { remaining: 0 } });
    expect((await verify(1)).json()).toMatchObject({ allowed: false, code: 'QUOTA_EXCEEDED' });
    const events = async () =>
      (await ctx.db.query("SELECT type, payload FROM outbox_messages WHERE type LIKE 'subscription.quota.%' AND payload->>'userId' = $1", [user.user.id])).rows;
    await vi.waitFor(() => expect(mailbox.to(user.input.email)).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailbox.to(user.input.email).map((mail) => mail.subject)).toEqual(['Your Gatehouse quota is used up']);
    expect(await events()).toEqual([{ type: 'subscription.quota.exceeded', payload: expect.objectContaining({ used: 10, limit: 10 }) }]);
    expect((await counters(user.user.id))[0]).toMatchObject({ used: 10 });
  });

  it("done-means 7: a PREMIUM plan's higher per-minute limit shows in X-RateLimit-Limit; the free tier keeps 100", async () => {
    const premium = await onPlan('PREMIUM_MONTHLY');
    expect((await call('GET', '/v1/users/me', premium.accessToken)).headers['x-ratelimit-limit']).toBe('1000');
    const free = await registerAndLogin(ctx.t.app);
    expect((await call('GET', '/v1/users/me', free.accessToken)).headers['x-ratelimit-limit']).toBe('100');
    // ADMINs keep the configured default (the tests lift it).
    expect((await call('GET', '/v1/users/me', admin().accessToken)).headers['x-ratelimit-limit']).toBe('100000');
  });

  it('done-means 7: on the free tier, authenticated call 1,001 of a UTC day is 429 QUOTA_EXCEEDED; seeing and buying a plan stays open', async () => {
    // The free tier's 100 a minute would stop the test first: the ADMIN lifts it (its daily cap stays 1,000).
    const patch = (rateLimit: unknown) => call('PATCH', '/v1/subscriptions/plans/NONE', admin().accessToken, { rateLimit });
    expect((await patch({ count: 5000, windowSeconds: 60 })).statusCode).toBe(200);
    try {
      // Signed in before the clock moves: a token issued at a mocked time is judged against the real one.
      const free = await registerAndLogin(ctx.t.app);
      setClock(ctx.t.app, new Date('2026-12-03T09:00:00.000Z'));
      for (let batch = 0; batch < 20; batch++) {
        const answers = await Promise.all(Array.from({ length: 50 }, () => call('GET', '/v1/api-keys', free.accessToken)));
        expect(answers.every((answer) => answer.statusCode === 200)).toBe(true);
      }
      const capped = await call('GET', '/v1/api-keys', free.accessToken);
      expect(capped.statusCode).toBe(429);
      expect(capped.json()).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 1000, apiVersion: 'v1', endpoint: '*', resetsAt: '2026-12-04T00:00:00.000Z' });
      expect(capped.headers).toMatchObject({ 'retry-after': String(15 * 3600), 'x-quota-limit': '1000', 'x-quota-remaining': '0' });
      expect((await call('GET', '/v1/products', free.accessToken)).statusCode).toBe(200);
      const mine = await call('GET', '/v1/subscriptions/me', free.accessToken);
      expect(mine.statusCode).toBe(200);
      expect(mine.json().usage).toEqual([{ apiVersion: 'v1', endpoint: '*', used: 1000, limit: 1000, remaining: 0, resetsAt: '2026-12-04T00:00:00.000Z' }]);
      setClock(ctx.t.app, new Date('2026-12-04T00:00:00.000Z'));
      expect((await call('GET', '/v1/api-keys', free.accessToken)).statusCode).toBe(200);
    } finally {
      await patch({ count: 100, windowSeconds: 60 });
    }
  });

  it('done-means 8: GET /v1/subscriptions/me shows usage matching the calls made; an ADMIN reads it per account', async () => {
    setClock(ctx.t.app, new Date('2026-12-03T08:00:00.000Z'));
    const user = await onPlan(
      customPlan({
        limits: [
          { apiVersion: 'v1', endpoint: '*', maxCalls: 7 },
          { apiVersion: 'v2', endpoint: 'reports.build', maxCalls: 3 },
        ],
      }),
    );
    for (let i = 0; i < 3; i++) expect((await getAll(user.apiKey)).statusCode).toBe(200);
    const usage = [
      { apiVersion: 'v1', endpoint: '*', used: 3, limit: 7, remaining: 4, resetsAt: '2026-12-04T00:00:00.000Z' },
      { apiVersion: 'v2', endpoint: 'reports.build', used: 0, limit: 3, remaining: 3, resetsAt: '2026-12-04T00:00:00.000Z' },
    ];
    const mine = await call('GET', '/v1/subscriptions/me', user.apiKey);
    expect(mine.json()).toMatchObject({ plan: 'CUSTOM', usage });
    const byAdmin = await call('GET', `/v1/subscriptions/${user.accountId}/usage`, admin().accessToken);
    expect(byAdmin.json()).toEqual({ accountId: user.accountId, userId: user.user.id, planCode: 'CUSTOM', plan: 'CUSTOM', usage });
    expect((await call('GET', `/v1/subscriptions/${user.accountId}/usage`, user.apiKey)).statusCode).toBe(403);
  });

  it('purges counters of windows that ended more than 35 days ago; current and never-ending ones stay', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const now = new Date('2026-12-03T12:00:00.000Z');
    const row = (windowStart: string, windowEnd: string | null) =>
      ctx.db.query(
        "INSERT INTO quota_counters (user_id, period_start, api_version, endpoint, window_start, window_end, used) VALUES ($1, '1970-01-01', 'v1', '*', $2, $3, 1)",
        [user.user.id, windowStart, windowEnd],
      );
    await row('2026-10-27T00:00:00Z', '2026-10-28T00:00:00Z');
    await row('2026-10-30T00:00:00Z', '2026-10-31T00:00:00Z');
    await row('2026-01-01T00:00:00Z', null);
    setClock(ctx.t.app, now);
    await ctx.t.app.get(Retention).run('quota counters of windows ended over 35 days ago');
    expect((await counters(user.user.id)).map((counter) => counter.window_start.toISOString())).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-10-30T00:00:00.000Z',
    ]);
  });
});
