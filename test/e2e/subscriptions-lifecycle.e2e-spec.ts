import { afterEach, describe, expect, it, vi } from 'vitest';
import { SubscriptionExpirySweeper } from '../../src/modules/subscriptions/subscription-expiry.sweeper';
import { callerFor } from '../helpers/http';
import { changesOf, setClock, subscriber, updateSubscription } from '../helpers/subscriptions';
import { useAdmin } from '../helpers/signed-in';
import { useTestApp } from '../helpers/test-app';

describe('subscriptions: expiry, history and outbox, races, plan edits (issue 10)', () => {
  const ctx = useTestApp();
  const admin = useAdmin(ctx);
  afterEach(() => vi.restoreAllMocks());

  const call = callerFor(ctx);
  const update = (token: string, body: unknown) => updateSubscription(ctx.t.app, token, body);
  const me = (token: string) => call('GET', '/v1/subscriptions/me', token);
  const planIdOf = async (code: string) => (await ctx.db.query('SELECT id FROM plans WHERE code = $1', [code])).rows[0].id as string;

  it('done-means 6: past its end a subscription reads NONE at once; the sweep then writes the EXPIRY history row and the outbox row, once', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    setClock(ctx.t.app, new Date('2026-05-10T12:00:00.000Z'));
    expect((await update(user.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' })).statusCode).toBe(200);

    setClock(ctx.t.app, new Date('2026-06-10T12:00:00.001Z'));
    const lapsed = await me(user.accessToken);
    expect(lapsed.json()).toMatchObject({
      planCode: 'NONE',
      plan: 'NONE',
      status: 'NONE',
      currentPeriodStart: '2026-06-10T12:00:00.000Z',
      currentPeriodEnd: null,
      expiresAt: null,
      limits: [{ maxCalls: 1000 }],
    });
    expect((await changesOf(ctx.db, user.accountId)).history).toHaveLength(1);
    const byPlan = async (plan: string) =>
      (await call('GET', `/v1/subscriptions?plan=${plan}&limit=100`, admin().accessToken)).json().items.map((item: { accountId: string }) => item.accountId);
    expect(await byPlan('NONE')).toContain(user.accountId);
    expect(await byPlan('TRIAL')).not.toContain(user.accountId);

    expect(await ctx.t.app.get(SubscriptionExpirySweeper).sweep()).toBeGreaterThanOrEqual(1);
    const { history, events } = await changesOf(ctx.db, user.accountId);
    expect(history).toHaveLength(2);
    expect(history[1]).toMatchObject({ source: 'EXPIRY', actor_user_id: null, previous_plan_code: 'TRIAL', plan_code: 'NONE', status: 'NONE' });
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      source: 'EXPIRY',
      previousPlan: 'TRIAL',
      plan: 'NONE',
      status: 'NONE',
      currentPeriodStart: '2026-06-10T12:00:00.000Z',
      currentPeriodEnd: null,
    });
    const row = await ctx.db.query('SELECT plan_id, status, expires_at FROM subscriptions WHERE account_id = $1', [user.accountId]);
    expect(row.rows[0]).toEqual({ plan_id: await planIdOf('NONE'), status: 'NONE', expires_at: null });
    expect((await me(user.accessToken)).json()).toEqual(lapsed.json());

    await ctx.t.app.get(SubscriptionExpirySweeper).sweep();
    expect((await changesOf(ctx.db, user.accountId)).history).toHaveLength(2);
  });

  it('done-means 8: each plan change, whatever its source, writes exactly one history row and one outbox row; a lapse before a change is a change of its own', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const asUser = (planName: string) => update(user.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName });
    const asAdmin = (body: Record<string, unknown>) => update(admin().accessToken, { userId: user.user.id, subscriberId: user.accountId, ...body });
    const customPlan = {
      name: 'Custom',
      duration: { unit: 'MONTH', count: 3 },
      limitResetPeriod: 'NONE',
      geoScope: ['TURKEY'],
      limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 50 }],
    };
    const steps: Array<[() => Promise<{ statusCode: number }>, string, string]> = [
      [() => asUser('TRIAL'), 'TRIAL', 'USER'],
      [() => asUser('NONE'), 'NONE', 'USER'],
      [() => asAdmin({ planName: 'ENTRY_YEARLY' }), 'ENTRY_YEARLY', 'ADMIN'],
      [() => asAdmin({ customPlan }), 'CUSTOM', 'ADMIN'],
      [() => asAdmin({ planName: 'PREMIUM_YEARLY' }), 'PREMIUM_YEARLY', 'ADMIN'],
      [() => asUser('NONE'), 'NONE', 'USER'],
    ];
    let previous = 'NONE';
    for (const [index, [step, plan, source]] of steps.entries()) {
      expect((await step()).statusCode).toBe(200);
      const { history, events } = await changesOf(ctx.db, user.accountId);
      expect(history, `after ${plan}`).toHaveLength(index + 1);
      expect(events, `after ${plan}`).toHaveLength(index + 1);
      expect(history.at(-1)).toMatchObject({ plan_code: plan, previous_plan_code: previous, source });
      expect(events.at(-1)).toMatchObject({ plan, previousPlan: previous, source, subscriptionId: history.at(-1).subscription_id, userId: user.user.id });
      previous = plan;
    }
    // Cancelling what is already NONE changes nothing and records nothing.
    expect((await asUser('NONE')).statusCode).toBe(200);
    expect((await changesOf(ctx.db, user.accountId)).history).toHaveLength(steps.length);

    // A term that ended before the next change is recorded as its own EXPIRY change first.
    setClock(ctx.t.app, new Date('2026-01-01T00:00:00.000Z'));
    expect((await asAdmin({ planName: 'ENTRY_MONTHLY' })).statusCode).toBe(200);
    setClock(ctx.t.app, new Date('2026-03-01T00:00:00.000Z'));
    expect((await asAdmin({ planName: 'PREMIUM_MONTHLY' })).statusCode).toBe(200);
    const { history, events } = await changesOf(ctx.db, user.accountId);
    expect(history.slice(-3).map((row) => [row.previous_plan_code, row.plan_code, row.source])).toEqual([
      ['NONE', 'ENTRY_MONTHLY', 'ADMIN'],
      ['ENTRY_MONTHLY', 'NONE', 'EXPIRY'],
      ['NONE', 'PREMIUM_MONTHLY', 'ADMIN'],
    ]);
    expect(events).toHaveLength(history.length);
  });

  it('two concurrent TRIAL requests for one account: one 200, one 409 TRIAL_ALREADY_USED, one history row and one outbox row', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const body = { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' };
    const answers = await Promise.all([update(user.accessToken, body), update(user.accessToken, body)]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
    expect(answers.find((answer) => answer.statusCode === 409)!.json().code).toBe('TRIAL_ALREADY_USED');
    const { history, events } = await changesOf(ctx.db, user.accountId);
    expect(history).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM subscriptions WHERE account_id = $1', [user.accountId])).rows[0].n).toBe(1);
  });

  it('an ADMIN edits a preset: new periods take the new terms, a running subscription keeps its own; only an ADMIN may', async () => {
    const running = await subscriber(ctx.t.app, ctx.db);
    expect((await update(admin().accessToken, { userId: running.user.id, subscriberId: running.accountId, planName: 'ENTRY_MONTHLY' })).statusCode).toBe(200);
    const terms = {
      limits: [
        { apiVersion: 'v1', endpoint: '*', maxCalls: 25_000 },
        { apiVersion: 'v1', endpoint: 'access.verify', maxCalls: 7 },
      ],
      rateLimit: { count: 500, windowSeconds: 60 },
      geoScope: ['TURKEY', 'EUROPE'],
      price: '19.99',
      stripePriceId: 'price_EntryMonthly1',
    };

    expect((await call('PATCH', '/v1/subscriptions/plans/ENTRY_MONTHLY', running.accessToken, terms)).statusCode).toBe(403);
    const invalid = await call('PATCH', '/v1/subscriptions/plans/ENTRY_MONTHLY', admin().accessToken, { limits: [terms.limits[0], terms.limits[0]] });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().errors[0].field).toBe('limits.1.endpoint');
    expect((await call('PATCH', '/v1/subscriptions/plans/CUSTOM', admin().accessToken, terms)).statusCode).toBe(422);

    const patched = await call('PATCH', '/v1/subscriptions/plans/ENTRY_MONTHLY', admin().accessToken, terms);
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ code: 'ENTRY_MONTHLY', ...terms });
    const listed = (await ctx.t.app.inject({ method: 'GET', url: '/v1/subscriptions/plans' })).json().items;
    expect(listed.find((plan: { code: string }) => plan.code === 'ENTRY_MONTHLY')).toMatchObject(terms);
    expect((await ctx.db.query("SELECT price_minor FROM plans WHERE code = 'ENTRY_MONTHLY'")).rows[0].price_minor).toBe('1999');

    expect((await me(running.accessToken)).json()).toMatchObject({
      limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 10_000 }],
      rateLimit: { count: 300, windowSeconds: 60 },
      geoScope: ['ALL'],
    });
    const fresh = await subscriber(ctx.t.app, ctx.db);
    const started = await update(admin().accessToken, { userId: fresh.user.id, subscriberId: fresh.accountId, planName: 'ENTRY_MONTHLY' });
    expect(started.json()).toMatchObject({ limits: terms.limits, rateLimit: terms.rateLimit, geoScope: terms.geoScope });
  });

  it('ADMIN list: by status and plan, with a cursor; USERs are refused', async () => {
    const trialing = await subscriber(ctx.t.app, ctx.db);
    expect((await update(trialing.accessToken, { userId: trialing.user.id, subscriberId: trialing.accountId, planName: 'TRIAL' })).statusCode).toBe(200);
    const list = async (query: string) => (await call('GET', `/v1/subscriptions?${query}`, admin().accessToken)).json();
    const trials = await list('status=TRIALING&limit=100');
    expect(trials.items.map((item: { accountId: string }) => item.accountId)).toContain(trialing.accountId);
    expect(trials.items.every((item: { status: string }) => item.status === 'TRIALING')).toBe(true);
    expect((await list('status=ACTIVE&plan=TRIAL&limit=100')).items).toEqual([]);

    const first = await list('limit=1');
    expect(first.items).toHaveLength(1);
    const second = await list(`limit=1&cursor=${first.nextCursor}`);
    expect(second.items[0].accountId > first.items[0].accountId).toBe(true);
    expect((await call('GET', '/v1/subscriptions', trialing.accessToken)).statusCode).toBe(403);
    expect((await call('GET', '/v1/subscriptions?status=GONE', admin().accessToken)).statusCode).toBe(422);
  });
});
