import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripe } from '../helpers/fake-stripe';
import { createTestApp, createTestDatabase, TestApp, TestDatabase } from '../helpers/test-app';

describe('development seeds: paid presets get the fake Stripe test prices (issue 22)', () => {
  const stripe = new FakeStripe();
  let stripeUrl: string;
  const apps: TestApp[] = [];
  const databases: TestDatabase[] = [];
  beforeAll(async () => {
    stripeUrl = await stripe.start();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const database of databases) await database.drop();
    await stripe.stop();
  });

  /** Boots an app on a database of its own, `prepare` run on it first; answers the presets' Stripe prices. */
  async function pricesAfterBoot(env: Record<string, string>, prepare = '') {
    const database = await createTestDatabase('seeds');
    databases.push(database);
    const db = new Client({ connectionString: database.url });
    await db.connect();
    try {
      if (prepare) await db.query(prepare);
      apps.push(await createTestApp({ database, env }));
      const { rows } = await db.query("SELECT code, stripe_price_id FROM plans WHERE code <> 'CUSTOM' ORDER BY code");
      return Object.fromEntries(rows.map((row) => [row.code, row.stripe_price_id]));
    } finally {
      await db.end();
    }
  }

  it('in development with STRIPE_API_BASE, each paid preset without one gets its test price; an ADMIN-set price is kept', async () => {
    const prices = await pricesAfterBoot(
      { NODE_ENV: 'development', STRIPE_API_BASE: stripeUrl },
      "UPDATE plans SET stripe_price_id = 'price_AdminsOwnPrice1' WHERE code = 'PREMIUM_YEARLY'",
    );
    expect(prices).toEqual({
      NONE: null,
      TRIAL: null,
      ENTRY_MONTHLY: 'price_devEntryMonthly',
      ENTRY_YEARLY: 'price_devEntryYearly',
      PREMIUM_MONTHLY: 'price_devPremiumMonthly',
      PREMIUM_YEARLY: 'price_AdminsOwnPrice1',
    });
  });

  it.each([
    ['development without STRIPE_API_BASE (real Stripe test mode: its prices are the vendor’s own)', { NODE_ENV: 'development' }],
    ['test, as the tests run', { NODE_ENV: 'test', STRIPE_API_BASE: 'http://127.0.0.1:9' }],
  ])('nothing is seeded in %s', async (_name, env) => {
    const prices = await pricesAfterBoot(env);
    expect(Object.values(prices)).toEqual([null, null, null, null, null, null]);
  });
});
