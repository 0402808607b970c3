import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFakeStripe } from '../helpers/stripe-fakes';
import { callerFor } from '../helpers/http';
import { subscriber, updateSubscription } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';

/**
 * One open Checkout Session per account, and Stripe called outside any transaction: on a pool of
 * one connection, so a connection held across a Stripe call would stall every other request.
 */
describe('subscription checkout: one open session per account, Stripe outside the lock', () => {
  const { stripe, env } = useFakeStripe({
    ALLOWED_LINK_ORIGINS: APP,
    DATABASE_POOL_MAX: '1',
    DATABASE_CONNECT_TIMEOUT_MS: '1000',
  });
  const ctx = useTestApp({ env });
  beforeAll(async () => {
    await ctx.db.query("UPDATE plans SET stripe_price_id = 'price_premium_monthly' WHERE code = 'PREMIUM_MONTHLY'");
    await ctx.db.query("UPDATE plans SET stripe_price_id = 'price_entry_monthly' WHERE code = 'ENTRY_MONTHLY'");
  });

  const call = callerFor(ctx);
  const checkout = (token: string, planCode = 'PREMIUM_MONTHLY') =>
    call('POST', '/v1/subscriptions/checkout', token, { planCode, successUrl: `${APP}/thanks`, cancelUrl: `${APP}/plans` });
  const made = (from: number, path: string) => stripe.requests.slice(from).filter((request) => request.method === 'POST' && request.path === path);
  const until = async (condition: () => boolean) => {
    for (let waited = 0; !condition(); waited += 10) {
      if (waited > 5_000) throw new Error('timed out waiting');
      await sleep(10);
    }
  };
  /** Whether another connection can take the account's subscription row at once (55P03 if a transaction holds it). */
  const rowIsFree = async (accountId: string) => {
    await ctx.db.query('BEGIN');
    try {
      const locked = await ctx.db.query('SELECT id FROM subscriptions WHERE account_id = $1 FOR UPDATE NOWAIT', [accountId]);
      return locked.rowCount === 1;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return false;
      throw error;
    } finally {
      await ctx.db.query('ROLLBACK');
    }
  };
  /** The app's connections sitting in an open transaction. */
  const idleInTransaction = async () =>
    (
      await ctx.db.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gatehouse' AND state LIKE 'idle in transaction%'",
      )
    ).rows[0].n as number;

  it('8 parallel checkouts of one account make one Stripe customer and one Checkout Session, and all answer it', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const before = stripe.requests.length;
    const held = stripe.hold(/^POST \/v1\/customers$/);
    const answers = Array.from({ length: 8 }, () => checkout(user.accessToken));
    await until(() => held.arrived() === 1);
    // The others reach their claim and wait for the holder's session meanwhile.
    await sleep(300);
    held.release();
    const responses = await Promise.all(answers);
    for (const response of responses) expect(response.statusCode, response.body).toBe(201);
    const sessions = new Set(responses.map((response) => JSON.stringify(response.json())));
    expect(sessions.size).toBe(1);
    expect(made(before, '/v1/customers')).toHaveLength(1);
    expect(made(before, '/v1/checkout/sessions')).toHaveLength(1);
    const { id, url } = responses[0]!.json<{ id: string; url: string }>();
    const row = (await ctx.db.query('SELECT session_id, url, plan_code FROM subscription_checkouts WHERE account_id = $1', [user.accountId])).rows[0];
    expect(row).toEqual({ session_id: id, url, plan_code: 'PREMIUM_MONTHLY' });
  });

  it('asked again later, the same plan answers the open session; another plan expires it at Stripe and opens a new one; a paid session refuses with 409', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const first = (await checkout(user.accessToken)).json<{ id: string; url: string }>();
    const before = stripe.requests.length;
    expect((await checkout(user.accessToken)).json()).toEqual(first);
    expect(stripe.requests.length).toBe(before);

    const entry = await checkout(user.accessToken, 'ENTRY_MONTHLY');
    expect(entry.statusCode, entry.body).toBe(201);
    expect(entry.json().id).not.toBe(first.id);
    expect(stripe.sessions.get(first.id)!.status).toBe('expired');
    expect(stripe.sessions.get(entry.json().id)!.status).toBe('open');

    // Paid but its completed event not yet here: no second session may open beside it.
    stripe.complete(entry.json().id);
    const refused = await checkout(user.accessToken);
    expect(refused.json()).toMatchObject({ status: 409, code: 'STRIPE_SUBSCRIPTION_EXISTS' });
    expect([...stripe.sessions.values()].filter((session) => session.client_reference_id === user.accountId && session.status !== 'expired')).toHaveLength(1);
  });

  it("while Stripe hangs on a first checkout's customer, the account's row is not locked and no connection is held: other requests answer at once", async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    // A TRIAL first, so the account has a subscription row to lock.
    expect((await updateSubscription(ctx.t.app, user.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' })).statusCode).toBe(
      200,
    );
    const held = stripe.hold(/^POST \/v1\/customers$/);
    const pending = checkout(user.accessToken);
    await until(() => held.arrived() === 1);
    try {
      expect(await rowIsFree(user.accountId)).toBe(true);
      expect(await idleInTransaction()).toBe(0);
      const me = await call('GET', '/v1/subscriptions/me', user.accessToken);
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json()).toMatchObject({ plan: 'TRIAL' });
    } finally {
      held.release();
    }
    expect((await pending).statusCode).toBe(201);
    expect((await ctx.db.query('SELECT stripe_customer_id FROM subscriptions WHERE account_id = $1', [user.accountId])).rows[0].stripe_customer_id).toMatch(
      /^cus_test_/,
    );
  });

  it("while Stripe hangs on a cancel, the account's row is not locked and no connection is held; the cancel then applies", async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const subscriptionId = `sub_hang_${user.accountId.slice(-8)}`;
    // A TRIAL makes the account's row; Stripe's ids on it make it billed through Stripe.
    await updateSubscription(ctx.t.app, user.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' });
    await ctx.db.query(
      "UPDATE subscriptions SET stripe_customer_id = 'cus_hang', stripe_subscription_id = $2, stripe_status = 'active' WHERE account_id = $1",
      [user.accountId, subscriptionId],
    );
    const held = stripe.hold(new RegExp(`^POST /v1/subscriptions/${subscriptionId}$`));
    const pending = call('POST', '/v1/subscriptions/cancel', user.accessToken);
    await until(() => held.arrived() === 1);
    try {
      expect(await rowIsFree(user.accountId)).toBe(true);
      expect(await idleInTransaction()).toBe(0);
      expect((await call('GET', '/v1/subscriptions/me', user.accessToken)).statusCode).toBe(200);
    } finally {
      held.release();
    }
    const cancelled = await pending;
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ cancelAtPeriodEnd: true });
    expect((await ctx.db.query('SELECT cancel_at_period_end FROM subscriptions WHERE account_id = $1', [user.accountId])).rows[0].cancel_at_period_end).toBe(
      true,
    );
  });
});
