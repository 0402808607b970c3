import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { signedStripeEvent } from '../helpers/fake-stripe';
import { registerAdmin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { mailsSettled } from '../helpers/mailbox';
import { setClock, subscriber, updateSubscription } from '../helpers/subscriptions';
import { useStripeWithMailbox } from '../helpers/stripe-fakes';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';
const PREMIUM = 'price_premium_monthly';
const ENTRY = 'price_entry_monthly';
const DAY = 86_400;
type Event = { id: string; type: string; created: number; data: { object: object } };

describe('subscriptions paid through Stripe', () => {
  const { stripe, mailbox, env } = useStripeWithMailbox({ ALLOWED_LINK_ORIGINS: APP });
  const ctx = useTestApp({ env });
  beforeAll(async () => {
    await ctx.db.query("UPDATE plans SET stripe_price_id = $1 WHERE code = 'PREMIUM_MONTHLY'", [PREMIUM]);
    await ctx.db.query("UPDATE plans SET stripe_price_id = $1 WHERE code = 'ENTRY_MONTHLY'", [ENTRY]);
  });
  afterEach(() => vi.restoreAllMocks());

  const call = callerFor(ctx);
  const deliver = async (event: Event) => {
    const signed = signedStripeEvent(event);
    const response = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/webhooks/stripe',
      payload: signed.payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': signed.header },
    });
    expect(response.statusCode, response.body).toBe(200);
    await mailsSettled(ctx.t.app);
  };
  const outcome = async (eventId: string) =>
    (await ctx.db.query('SELECT outcome FROM stripe_events WHERE id = $1', [eventId])).rows[0]?.outcome as string | undefined;
  const me = async (token: string) => (await call('GET', '/v1/subscriptions/me', token)).json<Record<string, unknown>>();
  const checkout = (token: string, planCode = 'PREMIUM_MONTHLY', successUrl = `${APP}/thanks`) =>
    call('POST', '/v1/subscriptions/checkout', token, { planCode, successUrl, cancelUrl: `${APP}/plans` });

  /** Row counts of one account: history, outbox by type, and its Stripe events. */
  async function counts(accountId: string, eventIds: string[]) {
    const history = (await ctx.db.query('SELECT count(*)::int AS n FROM subscription_changes WHERE account_id = $1', [accountId])).rows[0].n as number;
    const outbox = await ctx.db.query("SELECT type, count(*)::int AS n FROM outbox_messages WHERE payload->>'accountId' = $1 GROUP BY type ORDER BY type", [
      accountId,
    ]);
    const events = (await ctx.db.query('SELECT count(*)::int AS n FROM stripe_events WHERE id = ANY($1)', [eventIds])).rows[0].n as number;
    return { history, outbox: Object.fromEntries(outbox.rows.map((row: { type: string; n: number }) => [row.type, row.n])), events };
  }

  /** A subscriber with a Stripe customer made through checkout, and a builder of its Stripe events. */
  async function stripeCustomer() {
    const user = await subscriber(ctx.t.app, ctx.db);
    const created = await checkout(user.accessToken);
    expect(created.statusCode, created.body).toBe(201);
    const customer = (await ctx.db.query('SELECT stripe_customer_id FROM subscriptions WHERE account_id = $1', [user.accountId])).rows[0]
      .stripe_customer_id as string;
    const subscriptionId = `sub_${randomBytes(6).toString('hex')}`;
    const base = Math.floor(Date.now() / 1000);
    const id = (name: string) => `evt_${name}_${randomBytes(4).toString('hex')}`;
    const period = (n: number) => ({ start: base + (n - 1) * 30 * DAY, end: base + n * 30 * DAY });
    const ev = {
      completed: (overrides: object = {}): Event => ({
        id: id('completed'),
        type: 'checkout.session.completed',
        created: base,
        data: {
          object: {
            id: created.json().id,
            object: 'checkout.session',
            mode: 'subscription',
            client_reference_id: user.accountId,
            customer,
            subscription: subscriptionId,
            payment_status: 'paid',
            metadata: { userId: user.user.id, accountId: user.accountId, planCode: 'PREMIUM_MONTHLY' },
            ...overrides,
          },
        },
      }),
      invoice: (type: 'invoice.paid' | 'invoice.payment_failed', n: number, created: number, invoiceId = `in_${subscriptionId}_${n}`): Event => ({
        id: id(type),
        type,
        created,
        data: {
          object: {
            id: invoiceId,
            object: 'invoice',
            customer,
            amount_paid: type === 'invoice.paid' ? 4900 : 0,
            currency: 'usd',
            parent: { type: 'subscription_details', subscription_details: { subscription: subscriptionId } },
            lines: { object: 'list', data: [{ id: `il_${n}`, period: period(n), pricing: { price_details: { price: PREMIUM } } }] },
          },
        },
      }),
      subscription: (
        type: 'customer.subscription.updated' | 'customer.subscription.deleted',
        n: number,
        created: number,
        fields: { status?: string; price?: string; cancel_at_period_end?: boolean } = {},
      ): Event => ({
        id: id(type),
        type,
        created,
        data: {
          object: {
            id: subscriptionId,
            object: 'subscription',
            customer,
            status: fields.status ?? (type === 'customer.subscription.deleted' ? 'canceled' : 'active'),
            cancel_at_period_end: fields.cancel_at_period_end ?? false,
            items: {
              object: 'list',
              data: [{ price: { id: fields.price ?? PREMIUM }, current_period_start: period(n).start, current_period_end: period(n).end }],
            },
          },
        },
      }),
    };
    return { user, customer, subscriptionId, base, period, ev, session: created.json<{ id: string }>() };
  }

  it('Done means 7: checkout in subscription mode -> completed -> ACTIVE -> invoice.paid extends -> payment_failed: PAST_DUE and a mail -> deleted: NONE; replayed and reordered, the same state and row counts', async () => {
    const requestsBefore = stripe.requests.length;
    const { user, customer, subscriptionId, base, period, ev, session } = await stripeCustomer();
    const made = stripe.requests.slice(requestsBefore);
    expect(made.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /v1/customers', 'POST /v1/checkout/sessions']);
    expect(made[1]!.params).toMatchObject({
      mode: 'subscription',
      customer,
      'line_items[0][price]': PREMIUM,
      'line_items[0][quantity]': '1',
      client_reference_id: user.accountId,
      'metadata[userId]': user.user.id,
      'metadata[accountId]': user.accountId,
      'metadata[planCode]': 'PREMIUM_MONTHLY',
    });
    // One customer per account: a second checkout reuses it.
    expect((await checkout(user.accessToken)).statusCode).toBe(201);
    expect(stripe.requests.slice(requestsBefore).filter((request) => request.path === '/v1/customers')).toHaveLength(1);
    expect(stripe.requests.at(-1)!.params.customer).toBe(customer);
    expect(session.id).toMatch(/^cs_test_/);

    const flow = [
      ev.completed(),
      ev.invoice('invoice.paid', 1, base + 1),
      ev.invoice('invoice.paid', 2, base + 2),
      ev.invoice('invoice.payment_failed', 3, base + 3),
      ev.subscription('customer.subscription.deleted', 3, base + 4),
    ];
    await deliver(flow[0]!);
    expect(await me(user.accessToken)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'ACTIVE' });
    await deliver(flow[1]!);
    expect(await me(user.accessToken)).toMatchObject({ status: 'ACTIVE', currentPeriodEnd: new Date(period(1).end * 1000).toISOString() });
    await deliver(flow[2]!);
    expect(await me(user.accessToken)).toMatchObject({ status: 'ACTIVE', currentPeriodEnd: new Date(period(2).end * 1000).toISOString() });
    const mails = mailbox.to(user.input.email).length;
    await deliver(flow[3]!);
    expect(await me(user.accessToken)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'PAST_DUE' });
    expect(
      mailbox
        .to(user.input.email)
        .slice(mails)
        .map((mail) => mail.subject),
    ).toEqual(['Your Gatehouse subscription payment failed']);
    await deliver(flow[4]!);
    const ended = await me(user.accessToken);
    expect(ended).toMatchObject({ plan: 'NONE', status: 'CANCELED', currentPeriodEnd: null });
    for (const event of flow) expect(await outcome(event.id)).toBe('APPLIED');
    const expected = {
      history: 5,
      outbox: { 'customer.subscription.deleted': 1, 'invoice.paid': 2, 'subscription.changed': 5 },
      events: 5,
    };
    const ids = flow.map((event) => event.id);
    expect(await counts(user.accountId, ids)).toEqual(expected);
    expect(
      (await ctx.db.query('SELECT stripe_subscription_id FROM subscriptions WHERE account_id = $1', [user.accountId])).rows[0].stripe_subscription_id,
    ).toBe(subscriptionId);

    // Replayed: the same event ids change nothing.
    for (const event of flow) await deliver(event);
    expect(await counts(user.accountId, ids)).toEqual(expected);
    // Redelivered as new events, newest first: nothing brings it back.
    const reversed = [...flow].reverse().map((event) => ({ ...event, id: `${event.id}_again` }));
    for (const event of reversed) await deliver(event);
    for (const event of reversed) expect(await outcome(event.id)).toMatch(/^IGNORED_STALE$/);
    expect(await counts(user.accountId, [...ids, ...reversed.map((event) => event.id)])).toEqual({ ...expected, events: 10 });
    expect(await me(user.accessToken)).toEqual(ended);
    expect(mailbox.to(user.input.email).length).toBe(mails + 1);
  });

  it('re-subscribing after the first Stripe subscription ended: the new one applies even when its invoice beats its checkout, and the old one stays dead', async () => {
    const { user, subscriptionId, base, ev } = await stripeCustomer();
    await deliver(ev.completed());
    await deliver(ev.subscription('customer.subscription.deleted', 1, base + 10));
    expect(await me(user.accessToken)).toMatchObject({ plan: 'NONE' });
    // The second subscription of the same customer: the same events with its own ids.
    const second = `sub_${randomBytes(6).toString('hex')}`;
    const ofSecond = <T extends Event>(event: T): T => JSON.parse(JSON.stringify(event).replaceAll(subscriptionId, second)) as T;
    const invoice = ofSecond(ev.invoice('invoice.paid', 2, base + 20));
    await deliver(invoice);
    expect(await outcome(invoice.id)).toBe('APPLIED');
    expect(await me(user.accessToken)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'ACTIVE' });
    const completed = ofSecond(ev.completed());
    await deliver(completed);
    expect(await outcome(completed.id)).toBe('IGNORED_STALE');
    const lateFirst = ev.subscription('customer.subscription.updated', 1, base + 30, { status: 'active' });
    await deliver(lateFirst);
    expect(await outcome(lateFirst.id)).toBe('IGNORED');
    expect(
      (await ctx.db.query('SELECT stripe_subscription_id FROM subscriptions WHERE account_id = $1', [user.accountId])).rows[0].stripe_subscription_id,
    ).toBe(second);
  });

  it('a session completed but not yet paid (an async payment method) grants nothing until checkout.session.async_payment_succeeded', async () => {
    const { user, ev } = await stripeCustomer();
    const pending = ev.completed({ payment_status: 'unpaid' });
    await deliver(pending);
    expect(await outcome(pending.id)).toBe('IGNORED');
    expect(await me(user.accessToken)).toMatchObject({ plan: 'NONE' });
    const paid = { ...ev.completed(), type: 'checkout.session.async_payment_succeeded' };
    await deliver(paid);
    expect(await me(user.accessToken)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'ACTIVE' });
  });

  it('Done means 7: the same events in another order (the first invoice.paid before checkout.session.completed) end in the same state and counts', async () => {
    const { user, base, ev } = await stripeCustomer();
    const completed = ev.completed();
    const first = ev.invoice('invoice.paid', 1, base + 1);
    const second = ev.invoice('invoice.paid', 2, base + 2);
    const failed = ev.invoice('invoice.payment_failed', 3, base + 3);
    const deleted = ev.subscription('customer.subscription.deleted', 3, base + 4);
    for (const event of [first, completed, second, failed, deleted]) await deliver(event);
    expect(await outcome(completed.id)).toBe('IGNORED_STALE');
    expect(await me(user.accessToken)).toMatchObject({ plan: 'NONE', status: 'CANCELED', currentPeriodEnd: null });
    // completed found its subscription already active: one history row fewer than in order.
    expect(
      await counts(
        user.accountId,
        [completed, first, second, failed, deleted].map((event) => event.id),
      ),
    ).toEqual({
      history: 4,
      outbox: { 'customer.subscription.deleted': 1, 'invoice.paid': 2, 'subscription.changed': 4 },
      events: 5,
    });
  });

  it('Done means 7: updated then deleted, and deleted then updated, both end on NONE; an older updated is IGNORED_STALE', async () => {
    const inOrder = await stripeCustomer();
    const reordered = await stripeCustomer();
    for (const { ev } of [inOrder, reordered]) await deliver(ev.completed());

    const older = inOrder.ev.subscription('customer.subscription.updated', 1, inOrder.base + 1, { price: ENTRY });
    const newer = inOrder.ev.subscription('customer.subscription.updated', 2, inOrder.base + 2, { status: 'past_due' });
    await deliver(newer);
    await deliver(older);
    expect(await outcome(older.id)).toBe('IGNORED_STALE');
    expect(await me(inOrder.user.accessToken)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'PAST_DUE' });
    await deliver(inOrder.ev.subscription('customer.subscription.deleted', 2, inOrder.base + 3));

    const deletedFirst = reordered.ev.subscription('customer.subscription.deleted', 2, reordered.base + 3);
    const updatedLate = reordered.ev.subscription('customer.subscription.updated', 2, reordered.base + 2, { status: 'past_due' });
    await deliver(deletedFirst);
    await deliver(updatedLate);
    expect(await outcome(updatedLate.id)).toBe('IGNORED_STALE');
    // Even a later-looking state of a subscription that ended does not revive it.
    const afterEnd = reordered.ev.subscription('customer.subscription.updated', 3, reordered.base + 9);
    await deliver(afterEnd);
    expect(await outcome(afterEnd.id)).toBe('IGNORED_STALE');

    for (const { user } of [inOrder, reordered]) expect(await me(user.accessToken)).toMatchObject({ plan: 'NONE', status: 'CANCELED', currentPeriodEnd: null });
    const outboxOf = async (accountId: string) => (await counts(accountId, [])).outbox;
    expect(await outboxOf(inOrder.user.accountId)).toEqual({
      'customer.subscription.deleted': 1,
      'customer.subscription.updated': 1,
      'subscription.changed': 3,
    });
    expect(await outboxOf(reordered.user.accountId)).toEqual({ 'customer.subscription.deleted': 1, 'subscription.changed': 2 });
  });

  it('Done means 7: a replayed invoice.paid (same event id, or another event for the same invoice) extends the period once', async () => {
    const { user, base, period, ev, subscriptionId } = await stripeCustomer();
    await deliver(ev.completed());
    const paid = ev.invoice('invoice.paid', 2, base + 2);
    await deliver(paid);
    await deliver(paid);
    const again = { ...ev.invoice('invoice.paid', 2, base + 5), id: `${paid.id}_other` };
    await deliver(again);
    expect(await outcome(again.id)).toBe('IGNORED_DUPLICATE');
    expect(await me(user.accessToken)).toMatchObject({ status: 'ACTIVE', currentPeriodEnd: new Date(period(2).end * 1000).toISOString() });
    expect(await counts(user.accountId, [paid.id, again.id])).toMatchObject({
      history: 2,
      outbox: { 'invoice.paid': 1, 'subscription.changed': 2 },
      events: 2,
    });
    expect((await ctx.db.query('SELECT id FROM subscription_invoices WHERE id = $1', [`in_${subscriptionId}_2`])).rows).toHaveLength(1);
  });

  it("Done means 7: a completed session whose customer is not the account's is stored, logged at warn and has no effect", async () => {
    const { user, ev } = await stripeCustomer();
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const forged = ev.completed({ customer: 'cus_someone_else' });
    await deliver(forged);
    expect(warn.mock.calls.some(([message]) => String(message).includes('CUSTOMER_MISMATCH') && String(message).includes(user.accountId))).toBe(true);
    expect(await outcome(forged.id)).toBe('CUSTOMER_MISMATCH');
    expect(await me(user.accessToken)).toMatchObject({ plan: 'NONE' });
    expect(await counts(user.accountId, [forged.id])).toEqual({ history: 0, outbox: {}, events: 1 });
  });

  it('grace period: PAST_DUE keeps the plan for SUBSCRIPTION_GRACE_DAYS (3), then reads as NONE', async () => {
    const { user, base, ev } = await stripeCustomer();
    await deliver(ev.completed());
    const failedAt = new Date();
    await deliver(ev.invoice('invoice.payment_failed', 2, base + 2));
    setClock(ctx.t.app, new Date(failedAt.getTime() + 2 * DAY * 1000));
    expect(await me(user.accessToken)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'PAST_DUE' });
    setClock(ctx.t.app, new Date(failedAt.getTime() + 3 * DAY * 1000 + 60_000));
    expect(await me(user.accessToken)).toMatchObject({ plan: 'NONE', status: 'NONE' });
  });

  it('a Stripe-billed account cannot change plan past Stripe (409, nothing written), and cancel reaches Stripe even after the grace period lapsed', async () => {
    const { user, base, ev, subscriptionId } = await stripeCustomer();
    await deliver(ev.completed());
    const before = (await ctx.db.query('SELECT count(*)::int AS n FROM subscription_changes WHERE account_id = $1', [user.accountId])).rows[0].n;
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    for (const [token, planName] of [
      [user.accessToken, 'NONE'],
      [user.accessToken, 'TRIAL'],
      [admin.accessToken, 'ENTRY_YEARLY'],
    ] as const) {
      const refused = await updateSubscription(ctx.t.app, token, { userId: user.user.id, subscriberId: user.accountId, planName });
      expect(refused.statusCode, `${planName}: ${refused.body}`).toBe(409);
      expect(refused.json().code).toBe('STRIPE_SUBSCRIPTION_EXISTS');
    }
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM subscription_changes WHERE account_id = $1', [user.accountId])).rows[0].n).toBe(before);
    expect(await me(user.accessToken)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'ACTIVE' });

    // Payment fails and the grace period runs out: the account reads NONE while Stripe keeps retrying.
    const failedAt = new Date();
    await deliver(ev.invoice('invoice.payment_failed', 2, base + 2));
    setClock(ctx.t.app, new Date(failedAt.getTime() + 4 * DAY * 1000));
    expect(await me(user.accessToken)).toMatchObject({ plan: 'NONE' });
    const cancelled = await call('POST', '/v1/subscriptions/cancel', user.accessToken);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(stripe.requests.at(-1)).toMatchObject({ method: 'POST', path: `/v1/subscriptions/${subscriptionId}`, params: { cancel_at_period_end: 'true' } });
  });

  it('cancel: a Stripe subscription is cancelled at period end through Stripe; any other at its period end', async () => {
    const { user, ev, subscriptionId } = await stripeCustomer();
    await deliver(ev.completed());
    const cancelled = await call('POST', '/v1/subscriptions/cancel', user.accessToken);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'ACTIVE', cancelAtPeriodEnd: true });
    expect(stripe.requests.at(-1)).toMatchObject({ method: 'POST', path: `/v1/subscriptions/${subscriptionId}`, params: { cancel_at_period_end: 'true' } });

    const trial = await subscriber(ctx.t.app, ctx.db);
    expect(
      (await updateSubscription(ctx.t.app, trial.accessToken, { userId: trial.user.id, subscriberId: trial.accountId, planName: 'TRIAL' })).statusCode,
    ).toBe(200);
    const requests = stripe.requests.length;
    const view = (await call('POST', '/v1/subscriptions/cancel', trial.accessToken)).json<{ currentPeriodEnd: string; expiresAt: string }>();
    expect(view).toMatchObject({ plan: 'TRIAL', status: 'TRIALING', cancelAtPeriodEnd: true });
    expect(view.expiresAt).toBe(view.currentPeriodEnd);
    expect(stripe.requests.length).toBe(requests);
    setClock(ctx.t.app, new Date(new Date(view.currentPeriodEnd).getTime() + 1000));
    expect(await me(trial.accessToken)).toMatchObject({ plan: 'NONE', status: 'CANCELED' });
  });

  it('checkout refusals: NONE, TRIAL and CUSTOM are not sold (422), a plan without a Stripe price (409), a foreign link (422), a second running subscription (409)', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    for (const planCode of ['NONE', 'TRIAL', 'CUSTOM'])
      expect((await checkout(user.accessToken, planCode)).json()).toMatchObject({ status: 422, code: 'PLAN_NOT_PURCHASABLE' });
    expect((await checkout(user.accessToken, 'PREMIUM_YEARLY')).json()).toMatchObject({ status: 409, code: 'PLAN_NOT_ON_STRIPE' });
    expect((await checkout(user.accessToken, 'PREMIUM_MONTHLY', 'https://evil.example/x')).statusCode).toBe(422);
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM subscriptions WHERE account_id = $1', [user.accountId])).rows[0].n).toBe(0);

    const { user: paying, ev } = await stripeCustomer();
    await deliver(ev.completed());
    expect((await checkout(paying.accessToken)).json()).toMatchObject({ status: 409, code: 'STRIPE_SUBSCRIPTION_EXISTS' });
  });
});
