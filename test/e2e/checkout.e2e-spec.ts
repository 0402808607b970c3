import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertProduct } from '../factories/products';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { signedStripeEvent, STRIPE_TEST_SECRET_KEY } from '../helpers/fake-stripe';
import { callerFor } from '../helpers/http';
import { mailsSettled } from '../helpers/mailbox';
import { useStripeWithMailbox } from '../helpers/stripe-fakes';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';

describe('checkout, Stripe webhooks, orders and licenses', () => {
  const { stripe, mailbox, env } = useStripeWithMailbox({ ALLOWED_LINK_ORIGINS: APP });
  const ctx = useTestApp({ env });
  let admin: string;
  beforeAll(async () => {
    admin = (await registerAdmin(ctx.t.app, ctx.db)).accessToken;
  });

  const call = callerFor(ctx);
  const deliver = (signed: { payload: string; header?: string }) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/webhooks/stripe',
      payload: signed.payload,
      headers: { 'content-type': 'application/json', ...(signed.header ? { 'stripe-signature': signed.header } : {}) },
    });
  const count = async (sql: string, params: unknown[]) => (await ctx.db.query(sql, params)).rows[0].n as number;

  const product = (overrides: Parameters<typeof insertProduct>[1] = {}) =>
    insertProduct(ctx.db, { name: 'Studio', priceNetMinor: 20750, vatBasisPoints: 2000, stock: 10, maxActivations: 2, ...overrides });

  async function checkout(bearer: string, items: Array<{ productId: string; quantity?: number }>) {
    return call('POST', '/v1/checkout/sessions', bearer, { items, successUrl: `${APP}/thanks`, cancelUrl: `${APP}/cart` });
  }

  // One unit of the default product costs 249.00 gross; the event must carry the order's total.
  const ONE_UNIT = 24900;
  const completed = (
    sessionId: string,
    orderId: string,
    eventId = `evt_${randomBytes(6).toString('hex')}`,
    paymentIntent = `pi_${randomBytes(6).toString('hex')}`,
    amountTotal = ONE_UNIT,
  ) =>
    signedStripeEvent({
      id: eventId,
      type: 'checkout.session.completed',
      data: {
        object: {
          id: sessionId,
          object: 'checkout.session',
          client_reference_id: orderId,
          payment_status: 'paid',
          amount_total: amountTotal,
          currency: 'usd',
          payment_intent: paymentIntent,
          metadata: { orderId },
        },
      },
    });

  it('a purchase: checkout session with the published metadata, the paid event, licenses by mail, outbox rows, and a valid certificate', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const item = await product();
    const session = await checkout(buyer.accessToken, [{ productId: item.id, quantity: 2 }]);
    expect(session.statusCode, session.body).toBe(201);
    const { id: sessionId, orderId, url } = session.json();
    expect(url).toContain(sessionId);

    const sent = stripe.requests.at(-1)!;
    expect(sent.authorization).toBe(`Bearer ${STRIPE_TEST_SECRET_KEY}`);
    expect(sent.params).toMatchObject({
      mode: 'payment',
      customer_email: buyer.input.email,
      client_reference_id: orderId,
      'metadata[userId]': buyer.user.id,
      'metadata[orderId]': orderId,
      'metadata[productIds]': JSON.stringify([item.id]),
      'line_items[0][quantity]': '2',
      'line_items[0][price_data][unit_amount]': '24900',
      'line_items[0][price_data][currency]': 'usd',
      'payment_intent_data[metadata][orderId]': orderId,
    });
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json()).toMatchObject({ status: 'PENDING', amountTotal: '498.00' });

    expect((await deliver(completed(sessionId, orderId, undefined, undefined, 2 * ONE_UNIT))).statusCode).toBe(200);
    await mailsSettled(ctx.t.app);

    const order = (await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json();
    expect(order).toMatchObject({
      status: 'PAID',
      amountTotal: '498.00',
      currency: 'USD',
      items: [{ productId: item.id, quantity: 2, unitPriceGross: '249.00' }],
    });
    expect(await count('SELECT stock AS n FROM products WHERE id = $1', [item.id])).toBe(8);
    expect(await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [orderId])).toBe(2);
    expect(
      await count("SELECT count(*)::int AS n FROM outbox_messages WHERE type = 'checkout.session.completed' AND payload->>'orderId' = $1", [orderId]),
    ).toBe(1);

    const mail = mailbox.to(buyer.input.email).at(-1)!;
    expect(mail.subject).toBe('Your Gatehouse licenses');
    const keys = mail.text.match(/[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}/g)!;
    expect(keys).toHaveLength(2);

    const activation = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/licenses/activate',
      payload: JSON.stringify({ key: keys[0], fingerprint: 'studio-1' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(activation.statusCode).toBe(201);
    const validation = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/licenses/validate',
      payload: JSON.stringify({ key: keys[0], fingerprint: 'studio-1' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(validation.json().code).toBe('VALID');
    const jwks = (await ctx.t.app.inject({ method: 'GET', url: '/v1/licenses/jwks' })).json();
    const { payload } = await jwtVerify(validation.json().certificate, createLocalJWKSet(jwks));
    expect(payload).toMatchObject({ product: item.id, fingerprint: 'studio-1' });
  });

  it('the same event 10 times at once, and again later: one PAID order, one set of licenses, one stock decrement', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const item = await product({ stock: 5 });
    const { id: sessionId, orderId } = (await checkout(buyer.accessToken, [{ productId: item.id, quantity: 1 }])).json();
    const event = completed(sessionId, orderId, 'evt_duplicate_test_1');
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(event)));
    expect(results.map((response) => response.statusCode)).toEqual(Array(10).fill(200));
    expect((await deliver(completed(sessionId, orderId, 'evt_duplicate_test_1'))).statusCode).toBe(200);
    expect(await count("SELECT count(*)::int AS n FROM orders WHERE id = $1 AND status = 'PAID'", [orderId])).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [orderId])).toBe(1);
    expect(await count('SELECT stock AS n FROM products WHERE id = $1', [item.id])).toBe(4);
    expect(await count("SELECT count(*)::int AS n FROM stripe_events WHERE id = 'evt_duplicate_test_1'", [])).toBe(1);
    expect(await count("SELECT count(*)::int AS n FROM outbox_messages WHERE payload->>'orderId' = $1", [orderId])).toBe(1);
  });

  it('refuses a tampered body, a wrong secret, a 301 s old or 10 min future timestamp, or no header: 401 and nothing written', async () => {
    const event = {
      id: 'evt_bad_signature',
      type: 'checkout.session.completed',
      data: { object: { id: 'cs_x', client_reference_id: 'ord_x', payment_status: 'paid' } },
    };
    const good = signedStripeEvent(event);
    const now = Math.floor(Date.now() / 1000);
    const attempts = [
      { payload: good.payload.replace('cs_x', 'cs_y'), header: good.header },
      signedStripeEvent(event, { secret: 'whsec_someone_else' }),
      signedStripeEvent(event, { timestamp: now - 301 }),
      signedStripeEvent(event, { timestamp: now + 600 }),
      { payload: good.payload },
      // A captured old delivery with a fresh timestamp put in front: stripe-node reads the last t=.
      (() => {
        const old = signedStripeEvent(event, { timestamp: now - 30 * 86_400 });
        return { payload: old.payload, header: `t=${now},${old.header}` };
      })(),
    ];
    for (const attempt of attempts) {
      const response = await deliver(attempt);
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('INVALID_SIGNATURE');
    }
    expect(await count("SELECT count(*)::int AS n FROM stripe_events WHERE id = 'evt_bad_signature'", [])).toBe(0);
  });

  it('a full refund revokes the licenses: validate answers REVOKED; a partial one only marks the order', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const item = await product();
    const { id: sessionId, orderId } = (await checkout(buyer.accessToken, [{ productId: item.id }])).json();
    await deliver(completed(sessionId, orderId, undefined, 'pi_refund_full'));
    await mailsSettled(ctx.t.app);
    const key = mailbox
      .to(buyer.input.email)
      .at(-1)!
      .text.match(/[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}/)![0];

    const refund = (amountRefunded: number, id: string) =>
      deliver(
        signedStripeEvent({
          id,
          type: 'charge.refunded',
          data: { object: { id: `ch_${id}`, object: 'charge', payment_intent: 'pi_refund_full', amount: 24900, amount_refunded: amountRefunded } },
        }),
      );
    expect((await refund(10000, 'evt_refund_partial')).statusCode).toBe(200);
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json()).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: '100.00' });
    expect((await refund(24900, 'evt_refund_full')).statusCode).toBe(200);
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json().status).toBe('REFUNDED');
    // The partial refund's event delivered again, late: it cannot undo the full refund.
    expect((await refund(10000, 'evt_refund_partial_late')).statusCode).toBe(200);
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json()).toMatchObject({ status: 'REFUNDED', amountRefunded: '249.00' });
    const validation = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/licenses/validate',
      payload: JSON.stringify({ key }),
      headers: { 'content-type': 'application/json' },
    });
    expect(validation.json().code).toBe('REVOKED');
    expect(await count("SELECT count(*)::int AS n FROM outbox_messages WHERE type = 'charge.refunded' AND payload->>'orderId' = $1", [orderId])).toBe(2);
    // Each license is announced revoked once, for the refund.
    const revoked = await ctx.db.query(
      "SELECT m.payload->>'reason' AS reason, count(*)::int AS n FROM outbox_messages m JOIN licenses l ON l.id = m.payload->>'licenseId' WHERE l.order_id = $1 AND m.type = 'license.revoked' GROUP BY 1",
      [orderId],
    );
    const licenses = await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [orderId]);
    expect(revoked.rows).toEqual([{ reason: 'REFUND', n: licenses }]);
  });

  it('a failed payment marks the order FAILED and tells the buyer, a later success still pays it; unknown events are stored', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const item = await product();
    const { orderId } = (await checkout(buyer.accessToken, [{ productId: item.id }])).json();
    const failed = signedStripeEvent({
      id: 'evt_pi_failed',
      type: 'payment_intent.payment_failed',
      data: { object: { id: 'pi_failed', object: 'payment_intent', metadata: { orderId } } },
    });
    expect((await deliver(failed)).statusCode).toBe(200);
    await mailsSettled(ctx.t.app);
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json().status).toBe('FAILED');
    expect(mailbox.to(buyer.input.email).at(-1)?.subject).toBe('Your payment did not go through');

    // The buyer tries another card in the same session, and it goes through.
    const session = (await ctx.db.query('SELECT stripe_session_id FROM orders WHERE id = $1', [orderId])).rows[0].stripe_session_id as string;
    expect((await deliver(completed(session, orderId))).statusCode).toBe(200);
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json().status).toBe('PAID');
    expect(await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [orderId])).toBe(1);

    const unknown = signedStripeEvent({ id: 'evt_something_new', type: 'customer.subscription.updated', data: { object: { id: 'sub_1' } } });
    expect((await deliver(unknown)).statusCode).toBe(200);
    expect(await count("SELECT count(*)::int AS n FROM stripe_events WHERE id = 'evt_something_new'", [])).toBe(1);
  });

  it('a database failure while applying an event answers 5xx and writes nothing, so Stripe retries', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const item = await product();
    const { id: sessionId, orderId } = (await checkout(buyer.accessToken, [{ productId: item.id }])).json();
    await ctx.db.query(`CREATE FUNCTION fail_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$`);
    await ctx.db.query('CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox_messages FOR EACH ROW EXECUTE FUNCTION fail_outbox()');
    const event = completed(sessionId, orderId, 'evt_db_failure');
    try {
      const failed = await deliver(event);
      expect(failed.statusCode).toBeGreaterThanOrEqual(500);
      expect(await count("SELECT count(*)::int AS n FROM stripe_events WHERE id = 'evt_db_failure'", [])).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [orderId])).toBe(0);
      expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json().status).toBe('PENDING');
    } finally {
      await ctx.db.query('DROP TRIGGER fail_outbox ON outbox_messages');
      await ctx.db.query('DROP FUNCTION fail_outbox()');
    }
    expect((await deliver(event)).statusCode).toBe(200);
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json().status).toBe('PAID');
  });

  it('charges a product with its own Stripe price by that price', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const priced = await product({ stripePriceId: 'price_1StudioPro' });
    expect((await checkout(buyer.accessToken, [{ productId: priced.id, quantity: 3 }])).statusCode).toBe(201);
    expect(stripe.requests.at(-1)!.params).toMatchObject({ 'line_items[0][price]': 'price_1StudioPro', 'line_items[0][quantity]': '3' });
    expect(stripe.requests.at(-1)!.params['line_items[0][price_data][unit_amount]']).toBeUndefined();
  });

  it('checks stock, activity and link origins before creating anything', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const scarce = await product({ stock: 1 });
    const before = stripe.requests.length;
    const tooMany = await checkout(buyer.accessToken, [{ productId: scarce.id, quantity: 2 }]);
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.json().code).toBe('OUT_OF_STOCK');
    const inactive = await product();
    await call('DELETE', `/v1/products/${inactive.id}`, admin);
    expect((await checkout(buyer.accessToken, [{ productId: inactive.id }])).statusCode).toBe(422);
    const foreign = await call('POST', '/v1/checkout/sessions', buyer.accessToken, {
      items: [{ productId: scarce.id }],
      successUrl: 'https://evil.example/ok',
      cancelUrl: `${APP}/cart`,
    });
    expect(foreign.statusCode).toBe(422);
    const manyIds = Array.from({ length: 16 }, (_, i) => ({ productId: `prd_01jh8x2v3kf6qz9w0c4m5t7r${'abcdefghjkmnpqrs'[i]}` }));
    expect((await checkout(buyer.accessToken, manyIds)).statusCode).toBe(422);
    expect(
      (
        await checkout(buyer.accessToken, [
          { productId: scarce.id, quantity: 1000 },
          { productId: scarce.id, quantity: 1 },
        ])
      ).statusCode,
    ).toBe(422);
    expect(stripe.requests.length).toBe(before);
    expect(await count('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [buyer.user.id])).toBe(0);
  });

  it("hides another user's order (404), and a read-only key cannot start a checkout", async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const item = await product();
    const { orderId } = (await checkout(buyer.accessToken, [{ productId: item.id }])).json();
    const stranger = await registerAndLogin(ctx.t.app);
    expect((await call('GET', `/v1/orders/${orderId}`, stranger.accessToken)).statusCode).toBe(404);
    expect((await call('GET', '/v1/orders', stranger.accessToken)).json().items).toEqual([]);
    const key = (await call('POST', '/v1/api-keys', buyer.accessToken, { name: 'ro', scope: 'read-only' })).json().key as string;
    const denied = await checkout(key, [{ productId: item.id }]);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('INSUFFICIENT_SCOPE');
  });
});
