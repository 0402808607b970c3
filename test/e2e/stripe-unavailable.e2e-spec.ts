import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { insertProduct } from '../factories/products';
import { registerAdmin } from '../factories/users';
import { bearerCaller } from '../helpers/http';
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
  const call = (...args: Parameters<ReturnType<typeof bearerCaller>>) => bearerCaller(ctx.t.app)(...args);

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
