import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BillingEventsService } from '../../src/modules/billing/billing-events.service';
import { SubscriptionCheckoutsRepository } from '../../src/modules/billing/subscription-checkouts.repository';
import { SubscriptionsService } from '../../src/modules/subscriptions/subscriptions.service';
import { insertAccount } from '../factories/accounts';
import { insertOrder } from '../factories/orders';
import { insertProduct } from '../factories/products';
import { insertUser } from '../factories/users';
import { signedStripeEvent, STRIPE_TEST_WEBHOOK_SECRET } from '../helpers/fake-stripe';
import { useTestApp } from '../helpers/test-app';

const PREMIUM = 'price_premium_monthly';
const DAY = 86_400;
type Event = { id: string; type: string; created: number; data: { object: object } };

const eventId = (name: string) => `evt_${name}_${randomBytes(4).toString('hex')}`;

/**
 * Medium tier: BillingEventsService on this file's database, given signed events as Stripe sends
 * them, without HTTP. The ordering cases: redeliveries, events out of order, late and stale ones.
 */
describe('BillingEventsService (medium): events out of order and more than once', () => {
  const ctx = useTestApp({ env: { STRIPE_WEBHOOK_SECRET: STRIPE_TEST_WEBHOOK_SECRET } });
  const service = () => ctx.t.app.get(BillingEventsService);
  const rows = async (sql: string, params: unknown[]) => (await ctx.db.query(sql, params)).rows;
  const receive = async (event: Event) => {
    const signed = signedStripeEvent(event);
    expect(await service().receive(signed.payload, signed.header)).toEqual({ received: true });
  };
  const outcome = async (id: string) => (await rows('SELECT outcome FROM stripe_events WHERE id = $1', [id]))[0]?.outcome as string | undefined;

  describe('orders', () => {
    /** A PENDING order of `quantity` units of a product with `stock`, and builders of its Stripe events. */
    async function pendingOrder(quantity = 2, stock = 10) {
      const product = await insertProduct(ctx.db, { stock });
      const order = await insertOrder(ctx.db, { items: [{ product, quantity }] });
      const paymentIntent = `pi_${randomBytes(6).toString('hex')}`;
      const created = Math.floor(Date.now() / 1000);
      const session = (type: string, fields: object = {}): Event => ({
        id: eventId('session'),
        type,
        created,
        data: {
          object: {
            id: order.stripeSessionId,
            object: 'checkout.session',
            mode: 'payment',
            client_reference_id: order.id,
            payment_status: 'paid',
            amount_total: order.amountTotalMinor,
            currency: 'usd',
            payment_intent: paymentIntent,
            metadata: { orderId: order.id },
            ...fields,
          },
        },
      });
      const charge = (amountRefunded: number): Event => ({
        id: eventId('refund'),
        type: 'charge.refunded',
        created,
        data: {
          object: {
            id: `ch_${paymentIntent}`,
            object: 'charge',
            amount: order.amountTotalMinor,
            amount_refunded: amountRefunded,
            payment_intent: paymentIntent,
            metadata: { orderId: order.id },
          },
        },
      });
      const dispute = (type: 'charge.dispute.created' | 'charge.dispute.closed', status: string): Event => ({
        id: eventId('dispute'),
        type,
        created,
        data: {
          object: { id: `dp_${paymentIntent}`, object: 'dispute', payment_intent: paymentIntent, reason: 'fraudulent', amount: order.amountTotalMinor, status },
        },
      });
      return { product, order, paymentIntent, session, charge, dispute };
    }
    const orderRow = async (id: string) =>
      (await rows('SELECT status, amount_refunded_minor::int AS amount_refunded_minor, stripe_payment_intent_id FROM orders WHERE id = $1', [id]))[0];
    const licensesOf = async (orderId: string) =>
      (await rows('SELECT status FROM licenses WHERE order_id = $1 ORDER BY id', [orderId])).map((row: { status: string }) => row.status);
    const outboxOf = async (orderId: string) =>
      (await rows("SELECT type FROM outbox_messages WHERE payload->>'orderId' = $1 ORDER BY id", [orderId])).map((row: { type: string }) => row.type);
    const mailsTo = async (userId: string) =>
      (await rows('SELECT m.template FROM outbound_mails m JOIN users u ON u.email = m.recipient WHERE u.id = $1 ORDER BY m.id', [userId])).map(
        (row: { template: string }) => row.template,
      );
    const stockOf = async (productId: string) => (await rows('SELECT stock FROM products WHERE id = $1', [productId]))[0].stock as number;

    it('checkout completed twice (a redelivery, and async_payment_succeeded for the same session): fulfilled once', async () => {
      const { product, order, paymentIntent, session } = await pendingOrder(2, 10);
      const completed = session('checkout.session.completed');
      const succeeded = session('checkout.session.async_payment_succeeded');
      await receive(completed);
      await receive(completed);
      await receive(succeeded);

      expect(await outcome(completed.id)).toBe('APPLIED');
      expect(await outcome(succeeded.id)).toBe('IGNORED');
      expect(await orderRow(order.id)).toMatchObject({ status: 'PAID', stripe_payment_intent_id: paymentIntent });
      expect(await licensesOf(order.id)).toEqual(['ACTIVE', 'ACTIVE']);
      expect(await stockOf(product.id)).toBe(8);
      expect(await outboxOf(order.id)).toEqual(['checkout.session.completed']);
      expect(await mailsTo(order.userId)).toEqual(['licensesIssued']);
    });

    it('concurrent deliveries of one paid event: one row, one fulfilment', async () => {
      const { product, order, session } = await pendingOrder(1, 5);
      const completed = session('checkout.session.completed');
      await Promise.all(Array.from({ length: 5 }, () => receive(completed)));

      expect(await rows('SELECT count(*)::int AS n FROM stripe_events WHERE id = $1', [completed.id])).toEqual([{ n: 1 }]);
      expect(await licensesOf(order.id)).toEqual(['ACTIVE']);
      expect(await stockOf(product.id)).toBe(4);
    });

    it('a failed payment before the paid session: FAILED first, then PAID (FAILED is not final within the session)', async () => {
      const { order, paymentIntent, session } = await pendingOrder(1);
      const failed: Event = {
        id: eventId('failed'),
        type: 'payment_intent.payment_failed',
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: paymentIntent, object: 'payment_intent', metadata: { orderId: order.id } } },
      };
      await receive(failed);
      expect(await orderRow(order.id)).toMatchObject({ status: 'FAILED' });
      await receive(session('checkout.session.completed'));

      expect(await orderRow(order.id)).toMatchObject({ status: 'PAID' });
      expect(await licensesOf(order.id)).toEqual(['ACTIVE']);
      expect(await outboxOf(order.id)).toEqual(['payment_intent.payment_failed', 'checkout.session.completed']);
      expect(await mailsTo(order.userId)).toEqual(['paymentFailed', 'licensesIssued']);
    });

    it('a refund after fulfilment: partial, then full revokes the licenses; an older partial refund delivered late changes nothing', async () => {
      const { order, session, charge } = await pendingOrder(2);
      await receive(session('checkout.session.completed'));
      const partial = charge(100);
      const full = charge(order.amountTotalMinor);
      await receive(partial);
      expect(await orderRow(order.id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded_minor: 100 });
      expect(await licensesOf(order.id)).toEqual(['ACTIVE', 'ACTIVE']);
      await receive(full);
      const late = charge(100);
      await receive(late);

      expect(await outcome(late.id)).toBe('IGNORED');
      expect(await orderRow(order.id)).toMatchObject({ status: 'REFUNDED', amount_refunded_minor: order.amountTotalMinor });
      expect(await licensesOf(order.id)).toEqual(['REVOKED', 'REVOKED']);
      expect(await outboxOf(order.id)).toEqual(['checkout.session.completed', 'charge.refunded', 'charge.refunded']);
      expect((await rows("SELECT count(*)::int AS n FROM outbox_messages WHERE type = 'license.revoked' AND payload->>'reason' = 'REFUND'", []))[0].n).toBe(2);
    });

    it('a paid event for an order already refunded changes nothing', async () => {
      const { order, session, charge } = await pendingOrder(1);
      const completed = session('checkout.session.completed');
      await receive(completed);
      await receive(charge(order.amountTotalMinor));
      const again = session('checkout.session.async_payment_succeeded');
      await receive(again);

      expect(await outcome(again.id)).toBe('IGNORED');
      expect(await orderRow(order.id)).toMatchObject({ status: 'REFUNDED' });
      expect(await licensesOf(order.id)).toEqual(['REVOKED']);
    });

    it('a dispute lost, then its opening delivered late: the licenses stay revoked', async () => {
      const { order, session, dispute } = await pendingOrder(1);
      await receive(session('checkout.session.completed'));
      const opened = dispute('charge.dispute.created', 'needs_response');
      await receive(dispute('charge.dispute.closed', 'lost'));
      await receive(opened);

      expect(await outcome(opened.id)).toBe('APPLIED');
      expect(await licensesOf(order.id)).toEqual(['REVOKED']);
    });

    it("a paid session that is not the order's own is recorded as SESSION_MISMATCH and writes nothing else", async () => {
      const { order, session } = await pendingOrder(1);
      const forged = session('checkout.session.completed', { id: 'cs_test_someone_elses' });
      await receive(forged);

      expect(await outcome(forged.id)).toBe('SESSION_MISMATCH');
      expect(await orderRow(order.id)).toMatchObject({ status: 'PENDING' });
      expect(await licensesOf(order.id)).toEqual([]);
      expect(await outboxOf(order.id)).toEqual([]);
    });
  });

  describe('subscriptions', () => {
    /** An ACTIVE account whose Stripe customer exists, and builders of its subscription's events. */
    async function stripeCustomer() {
      const user = await insertUser(ctx.db);
      const account = await insertAccount(ctx.db, { userId: user.id, status: 'ACTIVE', emailVerified: true });
      const owner = { accountId: account.id, userId: user.id };
      const customer = await ctx.t.app.get(SubscriptionsService).attachCustomer(owner, `cus_${randomBytes(6).toString('hex')}`);
      const subscriptionId = `sub_${randomBytes(6).toString('hex')}`;
      const base = Math.floor(Date.now() / 1000);
      const period = (n: number) => ({ start: base + (n - 1) * 30 * DAY, end: base + n * 30 * DAY });
      const completed = (created: number): Event => ({
        id: eventId('completed'),
        type: 'checkout.session.completed',
        created,
        data: {
          object: {
            id: `cs_test_${randomBytes(6).toString('hex')}`,
            object: 'checkout.session',
            mode: 'subscription',
            client_reference_id: account.id,
            customer,
            subscription: subscriptionId,
            payment_status: 'paid',
            metadata: { userId: user.id, accountId: account.id, planCode: 'PREMIUM_MONTHLY' },
          },
        },
      });
      const invoicePaid = (n: number, created: number): Event => ({
        id: eventId('invoice'),
        type: 'invoice.paid',
        created,
        data: {
          object: {
            id: `in_${subscriptionId}_${n}`,
            object: 'invoice',
            customer,
            amount_paid: 4900,
            currency: 'usd',
            parent: { type: 'subscription_details', subscription_details: { subscription: subscriptionId } },
            lines: { object: 'list', data: [{ id: `il_${n}`, period: period(n), pricing: { price_details: { price: PREMIUM } } }] },
          },
        },
      });
      const subscription = (type: 'customer.subscription.updated' | 'customer.subscription.deleted', n: number, created: number, status?: string): Event => ({
        id: eventId('subscription'),
        type,
        created,
        data: {
          object: {
            id: subscriptionId,
            object: 'subscription',
            customer,
            status: status ?? (type === 'customer.subscription.deleted' ? 'canceled' : 'active'),
            cancel_at_period_end: false,
            items: { object: 'list', data: [{ price: { id: PREMIUM }, current_period_start: period(n).start, current_period_end: period(n).end }] },
          },
        },
      });
      return { account, base, period, subscriptionId, completed, invoicePaid, subscription };
    }
    const subscriptionOf = async (accountId: string) =>
      (
        await rows(
          'SELECT p.code AS plan, s.status, s.stripe_subscription_id, s.stripe_status, s.current_period_end FROM subscriptions s JOIN plans p ON p.id = s.plan_id WHERE s.account_id = $1',
          [accountId],
        )
      )[0];

    it('subscription updated before the checkout completed: the update adopts the subscription, the late completion is IGNORED_STALE', async () => {
      await ctx.db.query("UPDATE plans SET stripe_price_id = $1 WHERE code = 'PREMIUM_MONTHLY'", [PREMIUM]);
      const { account, base, period, subscriptionId, completed, subscription } = await stripeCustomer();
      const updated = subscription('customer.subscription.updated', 1, base + 2);
      const late = completed(base + 1);
      await receive(updated);
      await receive(late);

      expect(await outcome(updated.id)).toBe('APPLIED');
      expect(await outcome(late.id)).toBe('IGNORED_STALE');
      expect(await subscriptionOf(account.id)).toMatchObject({
        plan: 'PREMIUM_MONTHLY',
        status: 'ACTIVE',
        stripe_subscription_id: subscriptionId,
        current_period_end: new Date(period(1).end * 1000),
      });
    });

    it("the checkout completed in order: ACTIVE, and the account's open checkout is cleared so a later one opens its own session", async () => {
      await ctx.db.query("UPDATE plans SET stripe_price_id = $1 WHERE code = 'PREMIUM_MONTHLY'", [PREMIUM]);
      const { account, base, subscriptionId, completed } = await stripeCustomer();
      const now = new Date();
      const claim = {
        claimId: randomUUID(),
        request: { planCode: 'PREMIUM_MONTHLY' as const, successUrl: 'https://app.example.com/ok', cancelUrl: 'https://app.example.com/no' },
      };
      await ctx.t.app.get(SubscriptionCheckoutsRepository).claim(account.id, { ...claim, now, leaseUntil: new Date(now.getTime() + 60_000) });
      expect(await rows('SELECT claim_id FROM subscription_checkouts WHERE account_id = $1', [account.id])).toEqual([{ claim_id: claim.claimId }]);
      const event = completed(base);
      await receive(event);
      await receive(event);

      expect(await outcome(event.id)).toBe('APPLIED');
      expect(await subscriptionOf(account.id)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'ACTIVE', stripe_subscription_id: subscriptionId });
      expect(await rows('SELECT claim_id FROM subscription_checkouts WHERE account_id = $1', [account.id])).toEqual([]);
    });

    it('the first invoice paid before the checkout completed, then deleted: the same end state as in order', async () => {
      await ctx.db.query("UPDATE plans SET stripe_price_id = $1 WHERE code = 'PREMIUM_MONTHLY'", [PREMIUM]);
      const { account, base, completed, invoicePaid, subscription } = await stripeCustomer();
      const first = invoicePaid(1, base + 1);
      const late = completed(base);
      await receive(first);
      await receive(late);
      expect(await outcome(late.id)).toBe('IGNORED_STALE');
      expect(await subscriptionOf(account.id)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'ACTIVE' });
      await receive(subscription('customer.subscription.deleted', 1, base + 3));

      expect(await subscriptionOf(account.id)).toMatchObject({ plan: 'NONE', status: 'CANCELED', stripe_status: 'canceled' });
    });

    it('deleted before an update, and an older update after a newer one: nothing stale is applied', async () => {
      await ctx.db.query("UPDATE plans SET stripe_price_id = $1 WHERE code = 'PREMIUM_MONTHLY'", [PREMIUM]);
      const inOrder = await stripeCustomer();
      await receive(inOrder.completed(inOrder.base));
      const newer = inOrder.subscription('customer.subscription.updated', 2, inOrder.base + 2, 'past_due');
      const older = inOrder.subscription('customer.subscription.updated', 1, inOrder.base + 1);
      await receive(newer);
      await receive(older);
      expect(await outcome(older.id)).toBe('IGNORED_STALE');
      expect(await subscriptionOf(inOrder.account.id)).toMatchObject({ plan: 'PREMIUM_MONTHLY', status: 'PAST_DUE' });

      const reordered = await stripeCustomer();
      await receive(reordered.completed(reordered.base));
      const deleted = reordered.subscription('customer.subscription.deleted', 2, reordered.base + 3);
      const updatedLate = reordered.subscription('customer.subscription.updated', 2, reordered.base + 2, 'past_due');
      await receive(deleted);
      await receive(updatedLate);
      expect(await outcome(updatedLate.id)).toBe('IGNORED_STALE');
      const afterEnd = reordered.subscription('customer.subscription.updated', 3, reordered.base + 9);
      await receive(afterEnd);
      expect(await outcome(afterEnd.id)).toBe('IGNORED_STALE');
      expect(await subscriptionOf(reordered.account.id)).toMatchObject({ plan: 'NONE', status: 'CANCELED' });
    });

    it('a replayed invoice (the same event, or another event for the same invoice) counts once', async () => {
      await ctx.db.query("UPDATE plans SET stripe_price_id = $1 WHERE code = 'PREMIUM_MONTHLY'", [PREMIUM]);
      const { account, base, period, subscriptionId, completed, invoicePaid } = await stripeCustomer();
      await receive(completed(base));
      const paid = invoicePaid(2, base + 2);
      await receive(paid);
      await receive(paid);
      const again = { ...invoicePaid(2, base + 5), id: `${paid.id}_other` };
      await receive(again);

      expect(await outcome(again.id)).toBe('IGNORED_DUPLICATE');
      expect(await subscriptionOf(account.id)).toMatchObject({ status: 'ACTIVE', current_period_end: new Date(period(2).end * 1000) });
      expect(await rows('SELECT count(*)::int AS n FROM subscription_invoices WHERE id = $1', [`in_${subscriptionId}_2`])).toEqual([{ n: 1 }]);
      expect((await rows("SELECT count(*)::int AS n FROM outbox_messages WHERE type = 'invoice.paid' AND payload->>'accountId' = $1", [account.id]))[0].n).toBe(
        1,
      );
    });
  });

  it('a type nothing acts on is acknowledged and recorded once as IGNORED', async () => {
    const event: Event = { id: eventId('other'), type: 'customer.created', created: Math.floor(Date.now() / 1000), data: { object: { id: 'cus_x' } } };
    await receive(event);
    await receive(event);
    expect(await rows('SELECT type, outcome FROM stripe_events WHERE id = $1', [event.id])).toEqual([{ type: 'customer.created', outcome: 'IGNORED' }]);
  });

  it('a bad signature is INVALID_SIGNATURE and records nothing', async () => {
    const event: Event = { id: eventId('forged'), type: 'invoice.paid', created: Math.floor(Date.now() / 1000), data: { object: {} } };
    const signed = signedStripeEvent(event, { secret: 'whsec_someone_else' });
    await expect(service().receive(signed.payload, signed.header)).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
    expect(await outcome(event.id)).toBeUndefined();
  });
});
