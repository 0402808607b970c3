import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BackgroundTasks } from '../../src/common/background';
import { insertProduct } from '../factories/products';
import { registerAndLogin } from '../factories/users';
import { signedStripeEvent } from '../helpers/fake-stripe';
import { callerFor } from '../helpers/http';
import { mailsSettled } from '../helpers/mailbox';
import { useStripeWithMailbox } from '../helpers/stripe-fakes';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';
/** One unit: 207.50 net plus 20% VAT. */
const UNIT_GROSS = 24900;
const LICENSES_MAIL = 'Your Gatehouse licenses';
const FAILED_MAIL = 'Your payment did not go through';

/**
 * The reliability catalogue's Stripe scenarios: payloads as Stripe really sends them, two events
 * for one paid session, and payments that settle (or fail) days after the session completed.
 */
describe('Stripe webhook scenarios: real payloads, two events for one session, delayed payments', () => {
  const { mailbox, env } = useStripeWithMailbox({ ALLOWED_LINK_ORIGINS: APP });
  const ctx = useTestApp({ env });

  const call = callerFor(ctx);
  const deliver = (signed: { payload: string; header: string }) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/webhooks/stripe',
      payload: signed.payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': signed.header },
    });
  const count = async (sql: string, params: unknown[]) => (await ctx.db.query(sql, params)).rows[0].n as number;
  const drain = () => ctx.t.app.get(BackgroundTasks).drain();
  // Mails go out through the outbox's sender: every queued one is settled before the mailbox is read.
  const subjects = async (email: string) => {
    await mailsSettled(ctx.t.app);
    return mailbox.to(email).map((mail) => mail.subject);
  };

  /** A buyer with a PENDING order of `quantity` units of a product with 10 in stock, and its session. */
  async function pendingOrder(quantity: number) {
    const buyer = await registerAndLogin(ctx.t.app);
    const product = await insertProduct(ctx.db, { name: 'Studio', priceNetMinor: 20750, vatBasisPoints: 2000, stock: 10 });
    const created = await call('POST', '/v1/checkout/sessions', buyer.accessToken, {
      items: [{ productId: product.id, quantity }],
      successUrl: `${APP}/thanks`,
      cancelUrl: `${APP}/cart`,
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id: sessionId, orderId } = created.json<{ id: string; orderId: string }>();
    return { buyer, productId: product.id, sessionId, orderId, amountTotal: quantity * UNIT_GROSS, paymentIntent: `pi_${randomBytes(6).toString('hex')}` };
  }
  type Pending = Awaited<ReturnType<typeof pendingOrder>>;

  /** A Checkout Session event for the order's own session, as Stripe builds it. */
  const sessionEvent = (type: string, order: Pending, paymentStatus: 'paid' | 'unpaid', id = `evt_${randomBytes(6).toString('hex')}`) => ({
    id,
    type,
    data: {
      object: {
        id: order.sessionId,
        object: 'checkout.session',
        mode: 'payment',
        status: 'complete',
        client_reference_id: order.orderId,
        payment_status: paymentStatus,
        amount_total: order.amountTotal,
        currency: 'usd',
        payment_intent: order.paymentIntent,
        metadata: { orderId: order.orderId },
      },
    },
  });

  const orderState = async (order: Pending) => ({
    status: (await ctx.db.query('SELECT status FROM orders WHERE id = $1', [order.orderId])).rows[0].status as string,
    licenses: await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [order.orderId]),
    stock: await count('SELECT stock AS n FROM products WHERE id = $1', [order.productId]),
    outbox: (await ctx.db.query("SELECT type FROM outbox_messages WHERE payload->>'orderId' = $1 ORDER BY id", [order.orderId])).rows.map(
      (row: { type: string }) => row.type,
    ),
  });

  it('scenario 1: a pretty-printed event (as Stripe sends it) is verified on its raw bytes; the same event re-serialised, or signed only under v0, is 401 and stores nothing', async () => {
    const order = await pendingOrder(2);
    const event = sessionEvent('checkout.session.completed', order, 'paid', 'evt_pretty_printed');
    const pretty = signedStripeEvent(event, { indent: 2 });
    expect(pretty.payload).toContain('\n  "data": {\n');

    const compact = JSON.stringify(JSON.parse(pretty.payload));
    const onlyV0 = pretty.header.replace(/,v1=/, ',v0=');
    expect(onlyV0).toMatch(/^t=\d+,v0=[0-9a-f]{64}$/);
    for (const forged of [
      { payload: compact, header: pretty.header },
      { payload: pretty.payload, header: onlyV0 },
    ]) {
      const refused = await deliver(forged);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().code).toBe('INVALID_SIGNATURE');
    }
    expect(await count("SELECT count(*)::int AS n FROM stripe_events WHERE id = 'evt_pretty_printed'", [])).toBe(0);
    expect(await orderState(order)).toMatchObject({ status: 'PENDING', licenses: 0 });

    const accepted = await deliver(pretty);
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect((await ctx.db.query("SELECT outcome FROM stripe_events WHERE id = 'evt_pretty_printed'")).rows).toEqual([{ outcome: 'APPLIED' }]);
    expect(await orderState(order)).toEqual({ status: 'PAID', licenses: 2, stock: 8, outbox: ['checkout.session.completed'] });
    expect((await call('GET', `/v1/orders/${order.orderId}`, order.buyer.accessToken)).json().status).toBe('PAID');
  });

  it('scenario 2: checkout.session.completed and async_payment_succeeded for one paid session, 5 of each at once with their own ids: one fulfilment', async () => {
    const order = await pendingOrder(3);
    const events = ['checkout.session.completed', 'checkout.session.async_payment_succeeded'].flatMap((type) =>
      Array.from({ length: 5 }, () => signedStripeEvent(sessionEvent(type, order, 'paid'))),
    );
    const responses = await Promise.all(events.map(deliver));
    for (const response of responses) expect(response.statusCode, response.body).toBe(200);
    await drain();

    expect(await orderState(order)).toEqual({ status: 'PAID', licenses: 3, stock: 7, outbox: ['checkout.session.completed'] });
    const outcomes = await ctx.db.query(
      "SELECT outcome, count(*)::int AS n FROM stripe_events WHERE payload->'data'->'object'->>'id' = $1 GROUP BY 1 ORDER BY 1",
      [order.sessionId],
    );
    expect(outcomes.rows).toEqual([
      { outcome: 'APPLIED', n: 1 },
      { outcome: 'IGNORED', n: 9 },
    ]);
    expect((await subjects(order.buyer.input.email)).filter((subject) => subject === LICENSES_MAIL)).toHaveLength(1);
  });

  it('scenario 3: completed unpaid leaves the order PENDING with no license and no mail; async_payment_succeeded then issues the licenses once', async () => {
    const order = await pendingOrder(2);
    expect((await deliver(signedStripeEvent(sessionEvent('checkout.session.completed', order, 'unpaid')))).statusCode).toBe(200);
    await drain();
    expect(await orderState(order)).toEqual({ status: 'PENDING', licenses: 0, stock: 10, outbox: [] });
    expect((await subjects(order.buyer.input.email)).filter((subject) => subject === LICENSES_MAIL || subject === FAILED_MAIL)).toEqual([]);

    const succeeded = signedStripeEvent(sessionEvent('checkout.session.async_payment_succeeded', order, 'paid'));
    for (const delivery of [succeeded, succeeded, signedStripeEvent(sessionEvent('checkout.session.async_payment_succeeded', order, 'paid'))]) {
      expect((await deliver(delivery)).statusCode).toBe(200);
    }
    await drain();
    expect(await orderState(order)).toEqual({ status: 'PAID', licenses: 2, stock: 8, outbox: ['checkout.session.completed'] });
    expect((await subjects(order.buyer.input.email)).filter((subject) => subject === LICENSES_MAIL)).toHaveLength(1);
  });

  it.each([{ first: 'checkout.session.async_payment_failed' }, { first: 'payment_intent.payment_failed' }])(
    'scenario 3: async_payment_failed after completed unpaid fails the order for good: FAILED, no license, one mail and one event ($first first)',
    async ({ first }) => {
      const order = await pendingOrder(2);
      const sessionFailed = signedStripeEvent(sessionEvent('checkout.session.async_payment_failed', order, 'unpaid'));
      const intentFailed = signedStripeEvent({
        id: `evt_${randomBytes(6).toString('hex')}`,
        type: 'payment_intent.payment_failed',
        data: { object: { id: order.paymentIntent, object: 'payment_intent', metadata: { orderId: order.orderId } } },
      });
      const failures = first === 'payment_intent.payment_failed' ? [intentFailed, sessionFailed] : [sessionFailed, intentFailed];
      const completedUnpaid = signedStripeEvent(sessionEvent('checkout.session.completed', order, 'unpaid'));
      for (const delivery of [completedUnpaid, failures[0]!, failures[0]!, failures[1]!, completedUnpaid]) {
        expect((await deliver(delivery)).statusCode).toBe(200);
      }
      await drain();

      expect(await orderState(order)).toEqual({ status: 'FAILED', licenses: 0, stock: 10, outbox: ['payment_intent.payment_failed'] });
      expect((await call('GET', `/v1/orders/${order.orderId}`, order.buyer.accessToken)).json()).toMatchObject({ status: 'FAILED', paidAt: null });
      expect((await subjects(order.buyer.input.email)).filter((subject) => subject === FAILED_MAIL)).toHaveLength(1);
      const event = await ctx.db.query("SELECT payload FROM outbox_messages WHERE payload->>'orderId' = $1", [order.orderId]);
      expect(event.rows[0].payload).toEqual({ orderId: order.orderId, userId: order.buyer.user.id, paymentIntentId: order.paymentIntent });
      const sessionOutcome = await ctx.db.query('SELECT outcome FROM stripe_events WHERE id = $1', [JSON.parse(sessionFailed.payload).id]);
      expect(sessionOutcome.rows).toEqual([{ outcome: first === 'payment_intent.payment_failed' ? 'IGNORED' : 'APPLIED' }]);
    },
  );

  it('scenario 3: an async_payment_failed for another session naming the order is refused (SESSION_MISMATCH) and changes nothing', async () => {
    const order = await pendingOrder(1);
    const elsewhere = sessionEvent('checkout.session.async_payment_failed', { ...order, sessionId: 'cs_test_not_ours' }, 'unpaid', 'evt_failed_elsewhere');
    expect((await deliver(signedStripeEvent(elsewhere))).statusCode).toBe(200);
    await drain();
    expect((await ctx.db.query("SELECT outcome FROM stripe_events WHERE id = 'evt_failed_elsewhere'")).rows).toEqual([{ outcome: 'SESSION_MISMATCH' }]);
    expect(await orderState(order)).toEqual({ status: 'PENDING', licenses: 0, stock: 10, outbox: [] });
    expect(await subjects(order.buyer.input.email)).not.toContain(FAILED_MAIL);
  });
});
