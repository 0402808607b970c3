import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { insertProduct } from '../factories/products';
import { registerAndLogin } from '../factories/users';
import { signedStripeEvent } from '../helpers/fake-stripe';
import { callerFor } from '../helpers/http';
import { mailsSettled } from '../helpers/mailbox';
import { useStripeWithMailbox } from '../helpers/stripe-fakes';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';

describe('fulfilment: tied to our Checkout Session, large orders, sales beyond stock, disputes', () => {
  const { stripe, mailbox, env } = useStripeWithMailbox({ ALLOWED_LINK_ORIGINS: APP });
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

  const product = async (overrides: Parameters<typeof insertProduct>[1] = {}) =>
    (await insertProduct(ctx.db, { name: 'Studio', priceNetMinor: 20750, vatBasisPoints: 2000, stock: 10, ...overrides })).id;
  const checkout = (bearer: string, items: Array<{ productId: string; quantity?: number }>) =>
    call('POST', '/v1/checkout/sessions', bearer, { items, successUrl: `${APP}/thanks`, cancelUrl: `${APP}/cart` });
  const paid = (
    session: { id: string; orderId: string; amountTotal: number; currency?: string; paymentIntent?: string },
    eventId = `evt_${randomBytes(6).toString('hex')}`,
  ) =>
    signedStripeEvent({
      id: eventId,
      type: 'checkout.session.completed',
      data: {
        object: {
          id: session.id,
          object: 'checkout.session',
          client_reference_id: session.orderId,
          payment_status: 'paid',
          amount_total: session.amountTotal,
          currency: session.currency ?? 'usd',
          payment_intent: session.paymentIntent ?? `pi_${randomBytes(6).toString('hex')}`,
          metadata: { orderId: session.orderId },
        },
      },
    });

  it.each([
    { mismatch: 'SESSION_MISMATCH', forged: { id: 'cs_live_payment_link_elsewhere' } },
    { mismatch: 'AMOUNT_MISMATCH', forged: { amountTotal: 100 } },
    { mismatch: 'CURRENCY_MISMATCH', forged: { currency: 'jpy' } },
  ])("#4: a paid session that is not the order's own ($mismatch) is stored, logged at warn and has no effect", async ({ mismatch, forged }) => {
    const buyer = await registerAndLogin(ctx.t.app);
    const item = await product({ stock: 5 });
    const created = await checkout(buyer.accessToken, [{ productId: item, quantity: 1 }]);
    expect(created.statusCode, created.body).toBe(201);
    const { id: sessionId, orderId } = created.json<{ id: string; orderId: string }>();
    const mailsBefore = mailbox.to(buyer.input.email).length;
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const eventId = `evt_forged_${mismatch.toLowerCase()}`;
    try {
      const response = await deliver(paid({ id: sessionId, orderId, amountTotal: 24900, ...forged }, eventId));
      expect(response.statusCode).toBe(200);
      await mailsSettled(ctx.t.app);
      expect(warn.mock.calls.some(([message]) => String(message).includes(mismatch) && String(message).includes(orderId))).toBe(true);
    } finally {
      warn.mockRestore();
    }
    expect((await ctx.db.query('SELECT outcome FROM stripe_events WHERE id = $1', [eventId])).rows).toEqual([{ outcome: mismatch }]);
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json()).toMatchObject({ status: 'PENDING', paidAt: null });
    expect(await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [orderId])).toBe(0);
    expect(await count('SELECT stock AS n FROM products WHERE id = $1', [item])).toBe(5);
    expect(await count("SELECT count(*)::int AS n FROM outbox_messages WHERE payload->>'orderId' = $1", [orderId])).toBe(0);
    expect(mailbox.to(buyer.input.email)).toHaveLength(mailsBefore);

    // The order's own session, paid in full, still fulfils it.
    expect((await deliver(paid({ id: sessionId, orderId, amountTotal: 24900 }))).statusCode).toBe(200);
    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json().status).toBe('PAID');
    expect(await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [orderId])).toBe(1);
  });

  it('#7: checkout caps units per product and per order with a 422 naming the field, and creates nothing', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const items = await Promise.all(Array.from({ length: 11 }, () => product({ stock: null })));
    const before = stripe.requests.length;

    const perLine = await checkout(buyer.accessToken, [
      { productId: items[0]!, quantity: 600 },
      { productId: items[0]!, quantity: 401 },
    ]);
    expect(perLine.statusCode).toBe(422);
    expect(perLine.json().errors).toEqual([expect.objectContaining({ field: 'items.1.quantity', code: 'TOO_BIG' })]);

    const perOrder = await checkout(buyer.accessToken, [
      ...items.slice(0, 10).map((productId) => ({ productId, quantity: 1000 })),
      { productId: items[10]!, quantity: 1 },
    ]);
    expect(perOrder.statusCode).toBe(422);
    expect(perOrder.json().errors).toEqual([expect.objectContaining({ field: 'items', code: 'TOO_BIG', message: 'At most 10000 units per order' })]);

    expect(stripe.requests.length).toBe(before);
    expect(await count('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [buyer.user.id])).toBe(0);
  });

  it('#7: an order of 10,000 units is fulfilled with 10,000 licenses (once more than one insert could carry)', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const items = await Promise.all(Array.from({ length: 10 }, () => product({ priceNetMinor: 100, vatBasisPoints: 0, stock: null })));
    const created = await checkout(
      buyer.accessToken,
      items.map((productId) => ({ productId, quantity: 1000 })),
    );
    expect(created.statusCode, created.body).toBe(201);
    const { id: sessionId, orderId } = created.json<{ id: string; orderId: string }>();

    const response = await deliver(paid({ id: sessionId, orderId, amountTotal: 10_000 * 100 }));
    expect(response.statusCode, response.body).toBe(200);
    await mailsSettled(ctx.t.app);

    expect((await call('GET', `/v1/orders/${orderId}`, buyer.accessToken)).json()).toMatchObject({ status: 'PAID', amountTotal: '10000.00', oversold: false });
    expect(await count('SELECT count(*)::int AS n FROM licenses WHERE order_id = $1', [orderId])).toBe(10_000);
    expect(await count('SELECT count(DISTINCT key_hash)::int AS n FROM licenses WHERE order_id = $1', [orderId])).toBe(10_000);
    const outbox = await ctx.db.query(
      "SELECT jsonb_array_length(payload->'licenseIds') AS n FROM outbox_messages WHERE type = 'checkout.session.completed' AND payload->>'orderId' = $1",
      [orderId],
    );
    expect(outbox.rows).toEqual([{ n: 10_000 }]);
    expect(
      mailbox
        .to(buyer.input.email)
        .at(-1)!
        .text.match(/[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}/g),
    ).toHaveLength(10_000);
  }, 60_000);

  it('a sale beyond stock is flagged oversold on the order and logged at warn, stock stays at 0', async () => {
    const item = await product({ stock: 1 });
    const [first, second] = await Promise.all([registerAndLogin(ctx.t.app), registerAndLogin(ctx.t.app)]);
    // Both checkouts see one unit in stock; both buyers pay.
    const sessions: Array<{ id: string; orderId: string }> = [];
    for (const buyer of [first, second]) sessions.push((await checkout(buyer.accessToken, [{ productId: item }])).json<{ id: string; orderId: string }>());
    expect((await deliver(paid({ ...sessions[0]!, amountTotal: 24900 }))).statusCode).toBe(200);
    const warn = vi.spyOn(Logger.prototype, 'warn');
    try {
      expect((await deliver(paid({ ...sessions[1]!, amountTotal: 24900 }))).statusCode).toBe(200);
      expect(warn.mock.calls.some(([message]) => String(message).includes(sessions[1]!.orderId) && String(message).includes(`${item} short by 1`))).toBe(true);
    } finally {
      warn.mockRestore();
    }
    expect((await call('GET', `/v1/orders/${sessions[0]!.orderId}`, first.accessToken)).json()).toMatchObject({ status: 'PAID', oversold: false });
    expect((await call('GET', `/v1/orders/${sessions[1]!.orderId}`, second.accessToken)).json()).toMatchObject({ status: 'PAID', oversold: true });
    expect((await call('GET', '/v1/orders', second.accessToken)).json().items).toEqual([expect.objectContaining({ oversold: true })]);
    expect(await count('SELECT stock AS n FROM products WHERE id = $1', [item])).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM orders WHERE id = $1 AND oversold', [sessions[1]!.orderId])).toBe(1);
  });

  describe('disputes', () => {
    const statusOf = async (orderId: string) =>
      (await ctx.db.query('SELECT DISTINCT status FROM licenses WHERE order_id = $1', [orderId])).rows.map((row) => row.status as string);
    const dispute = (
      type: 'charge.dispute.created' | 'charge.dispute.closed',
      paymentIntent: string,
      status: string,
      id = `evt_${randomBytes(6).toString('hex')}`,
    ) =>
      signedStripeEvent({
        id,
        type,
        data: {
          object: {
            id: `dp_${paymentIntent}`,
            object: 'dispute',
            charge: `ch_${paymentIntent}`,
            payment_intent: paymentIntent,
            amount: 49800,
            currency: 'usd',
            reason: 'fraudulent',
            status,
            metadata: {},
          },
        },
      });
    async function paidOrder(paymentIntent: string) {
      const buyer = await registerAndLogin(ctx.t.app);
      const session = (await checkout(buyer.accessToken, [{ productId: await product(), quantity: 2 }])).json<{ id: string; orderId: string }>();
      expect((await deliver(paid({ ...session, amountTotal: 49800, paymentIntent }))).statusCode).toBe(200);
      expect(await statusOf(session.orderId)).toEqual(['ACTIVE']);
      return session.orderId;
    }
    const outboxRows = (type: string, orderId: string) =>
      count("SELECT count(*)::int AS n FROM outbox_messages WHERE type = $1 AND payload->>'orderId' = $2", [type, orderId]);
    /** The suspension and revocation events of an order's licenses, as `type reason × licenses`, oldest first. */
    const licenseEvents = async (orderId: string) =>
      (
        await ctx.db.query(
          `SELECT m.type || ' ' || (m.payload->>'reason') || ' x' || count(*) || '/' || (SELECT count(*) FROM licenses WHERE order_id = $1) AS event
             FROM outbox_messages m JOIN licenses l ON l.id = m.payload->>'licenseId'
            WHERE l.order_id = $1 AND m.type IN ('license.suspended', 'license.revoked')
            GROUP BY m.type, m.payload->>'reason' ORDER BY min(m.created_at)`,
          [orderId],
        )
      ).rows.map((row) => row.event as string);

    it("charge.dispute.created suspends the order's licenses once (redelivery changes nothing); closed as won reinstates them", async () => {
      const orderId = await paidOrder('pi_dispute_won');
      const opened = dispute('charge.dispute.created', 'pi_dispute_won', 'needs_response', 'evt_dispute_won_opened');
      expect((await deliver(opened)).statusCode).toBe(200);
      expect(await statusOf(orderId)).toEqual(['SUSPENDED']);
      expect((await deliver(opened)).statusCode).toBe(200);
      expect(await outboxRows('charge.dispute.created', orderId)).toBe(1);
      expect((await ctx.db.query("SELECT outcome FROM stripe_events WHERE id = 'evt_dispute_won_opened'")).rows).toEqual([{ outcome: 'APPLIED' }]);

      expect((await deliver(dispute('charge.dispute.closed', 'pi_dispute_won', 'won'))).statusCode).toBe(200);
      expect(await statusOf(orderId)).toEqual(['ACTIVE']);
      expect(await outboxRows('charge.dispute.closed', orderId)).toBe(1);
      // One license.suspended for the opening (not again on redelivery); a reinstatement is no event.
      expect(await licenseEvents(orderId)).toEqual([expect.stringMatching(/^license\.suspended DISPUTE x(\d+)\/\1$/)]);
    });

    it("charge.dispute.closed as lost revokes the order's licenses, and a late redelivery of the opening does not bring them back", async () => {
      const orderId = await paidOrder('pi_dispute_lost');
      const opened = dispute('charge.dispute.created', 'pi_dispute_lost', 'needs_response');
      await deliver(opened);
      expect(await statusOf(orderId)).toEqual(['SUSPENDED']);
      expect((await deliver(dispute('charge.dispute.closed', 'pi_dispute_lost', 'lost'))).statusCode).toBe(200);
      expect(await statusOf(orderId)).toEqual(['REVOKED']);
      await deliver(opened);
      expect(await statusOf(orderId)).toEqual(['REVOKED']);
      expect(await outboxRows('charge.dispute.closed', orderId)).toBe(1);
      expect(await licenseEvents(orderId)).toEqual([
        expect.stringMatching(/^license\.suspended DISPUTE x(\d+)\/\1$/),
        expect.stringMatching(/^license\.revoked DISPUTE_LOST x(\d+)\/\1$/),
      ]);
      expect(
        (
          await ctx.db.query("SELECT payload->>'lost' AS lost FROM outbox_messages WHERE type = 'charge.dispute.closed' AND payload->>'orderId' = $1", [
            orderId,
          ])
        ).rows,
      ).toEqual([{ lost: 'true' }]);
    });

    it('a type nothing applies is stored once as IGNORED (one statement, no transaction); a redelivery and a forged copy change nothing', async () => {
      const event = { id: 'evt_unapplied_type', type: 'payment_intent.created', data: { object: { id: 'pi_unapplied', object: 'payment_intent' } } };
      const stored = () => ctx.db.query("SELECT type, outcome, payload->>'id' AS id FROM stripe_events WHERE id = 'evt_unapplied_type'");
      expect((await deliver(signedStripeEvent(event))).statusCode).toBe(200);
      expect((await deliver(signedStripeEvent(event))).statusCode).toBe(200);
      expect((await stored()).rows).toEqual([{ type: 'payment_intent.created', outcome: 'IGNORED', id: 'evt_unapplied_type' }]);
      // The signature is still checked first.
      const forged = signedStripeEvent({ ...event, id: 'evt_unapplied_forged' }, { secret: 'whsec_not_the_secret' });
      expect((await deliver(forged)).statusCode).toBe(401);
      expect((await ctx.db.query("SELECT 1 FROM stripe_events WHERE id = 'evt_unapplied_forged'")).rowCount).toBe(0);
    });

    it('a dispute for a payment we do not know is stored as IGNORED and changes nothing', async () => {
      expect((await deliver(dispute('charge.dispute.created', 'pi_unknown', 'needs_response', 'evt_dispute_unknown'))).statusCode).toBe(200);
      expect((await ctx.db.query("SELECT outcome FROM stripe_events WHERE id = 'evt_dispute_unknown'")).rows).toEqual([{ outcome: 'IGNORED' }]);
      expect(
        await count("SELECT count(*)::int AS n FROM outbox_messages WHERE type LIKE 'charge.dispute.%' AND payload->>'disputeId' = 'dp_pi_unknown'", []),
      ).toBe(0);
    });
  });
});
