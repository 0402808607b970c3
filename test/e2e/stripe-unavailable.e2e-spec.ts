import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { registerAdmin } from '../factories/users';
import { signedStripeEvent } from '../helpers/fake-stripe';
import { useFakeStripe } from '../helpers/stripe-fakes';
import { callerFor } from '../helpers/http';
import { subscriber } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';

/** A port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** Both checkouts (an order, a subscription) answer 503 with Retry-After when Stripe cannot be used, and write nothing. */
describe.each([
  ['not configured', () => Promise.resolve({ env: { ALLOWED_LINK_ORIGINS: APP } })],
  [
    'unreachable',
    async () => ({
      env: {
        ALLOWED_LINK_ORIGINS: APP,
        STRIPE_SECRET_KEY: 'sk_test_unreachable',
        STRIPE_WEBHOOK_SECRET: 'whsec_unreachable',
        STRIPE_API_BASE: `http://127.0.0.1:${await closedPort()}`,
      },
    }),
  ],
])('Stripe %s', (_case, options) => {
  const ctx = useTestApp(options);
  const call = callerFor(ctx);

  it('a subscription checkout answers 503 with Retry-After, and stores no Stripe customer', async () => {
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    expect((await call('PATCH', '/v1/subscriptions/plans/ENTRY_MONTHLY', admin.accessToken, { stripePriceId: 'price_Unavailable' })).statusCode).toBe(200);
    const user = await subscriber(ctx.t.app, ctx.db);
    const response = await call('POST', '/v1/subscriptions/checkout', user.accessToken, {
      planCode: 'ENTRY_MONTHLY',
      successUrl: `${APP}/thanks`,
      cancelUrl: `${APP}/plans`,
    });
    expect(response.statusCode, response.body).toBe(503);
    expect(response.json().code).toBe('SERVICE_UNAVAILABLE');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM subscriptions WHERE account_id = $1 AND stripe_customer_id IS NOT NULL', [
      user.accountId,
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('an order checkout answers 503 with Retry-After, and leaves no order behind', async () => {
    const product = await insertProduct(ctx.db, { stock: 5 });
    const buyer = await subscriber(ctx.t.app, ctx.db);
    const response = await call('POST', '/v1/checkout/sessions', buyer.accessToken, {
      items: [{ productId: product.id }],
      successUrl: `${APP}/thanks`,
      cancelUrl: `${APP}/cart`,
    });
    expect(response.statusCode, response.body).toBe(503);
    expect(response.json().code).toBe('SERVICE_UNAVAILABLE');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    const { rows } = await ctx.db.query("SELECT count(*)::int AS n FROM orders WHERE user_id = $1 AND status <> 'FAILED'", [buyer.user.id]);
    expect(rows[0].n).toBe(0);
  });
});

/** The default STRIPE_TIMEOUT_MS: every Stripe call of one request, retries included, ends by then. */
const STRIPE_DEADLINE_MS = 5_000;
/** What a request may take beyond the deadline: its own queries on a busy test machine. */
const SLACK_MS = 2_000;

describe('Stripe hanging or failing: each request is bounded by STRIPE_TIMEOUT_MS and retried only where Stripe allows', () => {
  const { stripe, env } = useFakeStripe({
    ALLOWED_LINK_ORIGINS: APP,
    // Two connections for twenty checkouts and the probes: one held across a Stripe call would starve the rest.
    DATABASE_POOL_MAX: '2',
  });
  const ctx = useTestApp({ env });
  beforeAll(async () => {
    await ctx.db.query("UPDATE plans SET stripe_price_id = 'price_entry_monthly' WHERE code = 'ENTRY_MONTHLY'");
  });

  const call = callerFor(ctx);
  const subscriptionCheckout = (token: string) =>
    call('POST', '/v1/subscriptions/checkout', token, { planCode: 'ENTRY_MONTHLY', successUrl: `${APP}/thanks`, cancelUrl: `${APP}/plans` });
  const orderCheckout = (token: string, productId: string) =>
    call('POST', '/v1/checkout/sessions', token, { items: [{ productId }], successUrl: `${APP}/thanks`, cancelUrl: `${APP}/cart` });
  const timed = async <T>(work: () => Promise<T>) => {
    const started = performance.now();
    const result = await work();
    return { result, ms: performance.now() - started };
  };

  it('10 first-time subscription checkouts and 10 order checkouts against a hanging Stripe each answer 503 with Retry-After within the deadline; users/me, license validate, readiness and Stripe webhooks keep answering 200', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => subscriber(ctx.t.app, ctx.db)));
    const product = await insertProduct(ctx.db, { stock: null });
    const license = await insertLicense(ctx.db, {});
    const held = stripe.hold(/./);
    let settled = false;
    const checkouts = Promise.all([
      ...users.map((user) => timed(() => subscriptionCheckout(user.accessToken))),
      ...users.map((user) => timed(() => orderCheckout(user.accessToken, product.id))),
    ]).finally(() => (settled = true));

    // While the checkouts wait on Stripe, the rest of the API answers as usual.
    const probes: Array<{ route: string; status: number; ms: number }> = [];
    try {
      while (!settled) {
        const event = signedStripeEvent({ id: `evt_during_hang_${probes.length}`, type: 'customer.created', data: { object: { id: 'cus_hang' } } });
        const [me, validate, ready, webhook] = await Promise.all([
          timed(() => call('GET', '/v1/users/me', users[0]!.accessToken)),
          timed(() =>
            ctx.t.app.inject({
              method: 'POST',
              url: '/v1/licenses/validate',
              payload: JSON.stringify({ key: license.key }),
              headers: { 'content-type': 'application/json' },
            }),
          ),
          timed(() => ctx.t.app.inject({ method: 'GET', url: '/health/ready' })),
          timed(() =>
            ctx.t.app.inject({
              method: 'POST',
              url: '/v1/webhooks/stripe',
              payload: event.payload,
              headers: { 'content-type': 'application/json', 'stripe-signature': event.header },
            }),
          ),
        ]);
        probes.push(
          { route: 'me', status: me.result.statusCode, ms: me.ms },
          { route: 'validate', status: validate.result.statusCode, ms: validate.ms },
          { route: 'ready', status: ready.result.statusCode, ms: ready.ms },
          { route: 'webhook', status: webhook.result.statusCode, ms: webhook.ms },
        );
        await sleep(200);
      }
    } finally {
      held.release();
    }
    const answers = await checkouts;

    expect(held.arrived()).toBe(20);
    for (const { result, ms } of answers) {
      expect(result.statusCode, result.body).toBe(503);
      expect(result.json().code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(result.headers['retry-after'])).toBeGreaterThan(0);
      expect(ms).toBeLessThan(STRIPE_DEADLINE_MS + SLACK_MS);
    }
    expect(probes.length).toBeGreaterThanOrEqual(4 * 10);
    expect(probes.filter((probe) => probe.status !== 200)).toEqual([]);
    expect(Math.max(...probes.map((probe) => probe.ms))).toBeLessThan(2_000);

    // Nothing is kept of what Stripe never answered: no customer, no claim, and FAILED orders without a session.
    const accountIds = users.map((user) => user.accountId);
    const stored = await ctx.db.query('SELECT count(*)::int AS n FROM subscriptions WHERE account_id = ANY($1) AND stripe_customer_id IS NOT NULL', [
      accountIds,
    ]);
    expect(stored.rows[0].n).toBe(0);
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM subscription_checkouts WHERE account_id = ANY($1)', [accountIds])).rows[0].n).toBe(0);
    const orders = await ctx.db.query('SELECT status, stripe_session_id FROM orders WHERE user_id = ANY($1)', [users.map((user) => user.user.id)]);
    expect(orders.rows).toEqual(Array.from({ length: 10 }, () => ({ status: 'FAILED', stripe_session_id: null })));

    // Stripe back: the same checkouts succeed.
    expect((await subscriptionCheckout(users[0]!.accessToken)).statusCode).toBe(201);
    expect((await orderCheckout(users[0]!.accessToken, product.id)).statusCode).toBe(201);
  }, 30_000);

  it('a 5xx is retried once (STRIPE_MAX_RETRIES) with the same Idempotency-Key; a second one, Stripe-Should-Retry: false or a 429 answers 503 at once; a 400 is not retried (502)', async () => {
    const buyer = await subscriber(ctx.t.app, ctx.db);
    const product = await insertProduct(ctx.db, { stock: null });
    const sessionCalls = (from: number) => stripe.requests.slice(from).filter((request) => request.path === '/v1/checkout/sessions');

    let from = stripe.requests.length;
    stripe.fail(/^POST \/v1\/checkout\/sessions$/, 1, 500);
    const retried = await orderCheckout(buyer.accessToken, product.id);
    expect(retried.statusCode, retried.body).toBe(201);
    const keys = sessionCalls(from).map((request) => request.idempotencyKey);
    expect(keys).toEqual([`gatehouse-order-checkout-${retried.json().orderId}`, `gatehouse-order-checkout-${retried.json().orderId}`]);
    expect(stripe.sessions.get(retried.json().id)).toBeDefined();

    const refusals: Array<{ times: number; status: number; headers: Record<string, string>; attempts: number; answer: number }> = [
      { times: 2, status: 500, headers: {}, attempts: 2, answer: 503 },
      { times: 1, status: 500, headers: { 'stripe-should-retry': 'false' }, attempts: 1, answer: 503 },
      { times: 1, status: 429, headers: {}, attempts: 1, answer: 503 },
      { times: 1, status: 400, headers: {}, attempts: 1, answer: 502 },
    ];
    for (const refusal of refusals) {
      from = stripe.requests.length;
      stripe.fail(/^POST \/v1\/checkout\/sessions$/, refusal.times, refusal.status, refusal.headers);
      const response = await orderCheckout(buyer.accessToken, product.id);
      expect(response.statusCode, JSON.stringify(refusal)).toBe(refusal.answer);
      expect(sessionCalls(from), JSON.stringify(refusal)).toHaveLength(refusal.attempts);
      if (refusal.answer === 503) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
    const { rows } = await ctx.db.query('SELECT status, count(*)::int AS n FROM orders WHERE user_id = $1 GROUP BY status ORDER BY status', [buyer.user.id]);
    expect(rows).toEqual([
      { status: 'PENDING', n: 1 },
      { status: 'FAILED', n: 4 },
    ]);
  });

  it("checkouts of one account waiting for the claim holder's session spend their own deadline waiting: each answers within it, 503 or 409 CHECKOUT_IN_PROGRESS, with Retry-After", async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const held = stripe.hold(/^POST \/v1\/customers$/);
    try {
      const answers = await Promise.all(Array.from({ length: 4 }, () => timed(() => subscriptionCheckout(user.accessToken))));
      expect(held.arrived()).toBe(1);
      for (const { result, ms } of answers) {
        expect([503, 409], result.body).toContain(result.statusCode);
        if (result.statusCode === 409) expect(result.json().code).toBe('CHECKOUT_IN_PROGRESS');
        expect(Number(result.headers['retry-after'])).toBeGreaterThan(0);
        expect(ms).toBeLessThan(STRIPE_DEADLINE_MS + SLACK_MS);
      }
    } finally {
      held.release();
    }
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM subscription_checkouts WHERE account_id = $1', [user.accountId])).rows[0].n).toBe(0);
  });
});
