import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackgroundTasks } from '../../src/common/background';
import { insertApiKey } from '../factories/api-keys';
import { registerAdmin } from '../factories/users';
import { redisAnswers, TEST_REDIS_URL } from '../helpers/redis-server';
import { subscriber, updateSubscription } from '../helpers/subscriptions';
import { createTestApp, createTestDatabase, TestApp, TestDatabase } from '../helpers/test-app';

/** Two app instances on one database (and one Redis when given): the quota is one count between them. */
function twoInstances(env: () => Record<string, string>) {
  const ctx = {} as { database: TestDatabase; instances: TestApp[]; db: Client; admin: Awaited<ReturnType<typeof registerAdmin>> };
  beforeAll(async () => {
    ctx.database = await createTestDatabase('metering');
    ctx.instances = await Promise.all([createTestApp({ database: ctx.database, env: env() }), createTestApp({ database: ctx.database, env: env() })]);
    ctx.db = new Client({ connectionString: ctx.database.url });
    await ctx.db.connect();
    ctx.admin = await registerAdmin(ctx.instances[0]!.app, ctx.db);
  });
  afterAll(async () => {
    await ctx.db?.end();
    await Promise.all((ctx.instances ?? []).map((instance) => instance.close()));
    await ctx.database?.drop();
  });
  return ctx;
}

async function trialCustomer(ctx: ReturnType<typeof twoInstances>) {
  const app = ctx.instances[0]!.app;
  const user = await subscriber(app, ctx.db);
  expect((await updateSubscription(app, ctx.admin.accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' })).statusCode).toBe(
    200,
  );
  return { ...user, key: (await insertApiKey(ctx.db, { ownerId: user.user.id })).key };
}

/** 20 parallel calls, alternating between the instances, on the 5 a TRIAL day allows. */
async function race(ctx: ReturnType<typeof twoInstances>) {
  const customer = await trialCustomer(ctx);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      ctx.instances[i % 2]!.app.inject({ method: 'GET', url: '/api/integration/products/getAll', headers: { authorization: `Bearer ${customer.key}` } }),
    ),
  );
  const statuses = answers.map((answer) => answer.statusCode);
  const counted = await ctx.db.query('SELECT used FROM quota_counters WHERE user_id = $1', [customer.user.id]);
  return { ok: statuses.filter((status) => status === 200).length, refused: statuses.filter((status) => status === 429).length, counted: counted.rows };
}

describe('metering across two instances (issue 11, done-means 2)', () => {
  const ctx = twoInstances(() => ({}));

  it('20 parallel calls with 5 left, split over two instances on one database: exactly 5 succeed', async () => {
    expect(await race(ctx)).toEqual({ ok: 5, refused: 15, counted: [{ used: 5 }] });
  });
});

describe('quota alerts across two instances (issue 11, done-means 6)', () => {
  const ctx = twoInstances(() => ({}));

  it('20 parallel calls over two instances against a limit of 10: one warning and one exceeded event, each once', async () => {
    const app = ctx.instances[0]!.app;
    const user = await subscriber(app, ctx.db);
    const customPlan = {
      name: 'Ten',
      duration: { unit: 'MONTH', count: 1 },
      limitResetPeriod: 'DAILY',
      geoScope: ['ALL'],
      limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 10 }],
    };
    expect((await updateSubscription(app, ctx.admin.accessToken, { userId: user.user.id, subscriberId: user.accountId, customPlan })).statusCode).toBe(200);
    const key = (await insertApiKey(ctx.db, { ownerId: user.user.id })).key;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ctx.instances[i % 2]!.app.inject({ method: 'GET', url: '/api/integration/products/getAll', headers: { authorization: `Bearer ${key}` } }),
      ),
    );
    expect(answers.filter((answer) => answer.statusCode === 200)).toHaveLength(10);
    // Each instance raises both alerts once it sees the thresholds passed; the counter row's claim lets one through.
    await Promise.all(ctx.instances.map((instance) => instance.app.get(BackgroundTasks).drain()));
    const events = await ctx.db.query("SELECT type FROM outbox_messages WHERE type LIKE 'subscription.quota.%' AND payload->>'userId' = $1 ORDER BY type", [
      user.user.id,
    ]);
    expect(events.rows.map((row) => row.type)).toEqual(['subscription.quota.exceeded', 'subscription.quota.warning']);
  });
});

describe('metering across two instances sharing Redis (issue 11, done-means 2)', async () => {
  const available = await redisAnswers();
  if (!available && process.env.REQUIRE_REDIS === '1') throw new Error(`REQUIRE_REDIS=1 but no Redis answers at ${TEST_REDIS_URL}`);
  const ctx = twoInstances(() => ({ REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: `gatehouse-test-${randomBytes(6).toString('hex')}:` }));

  it.runIf(available)('the same with REDIS_URL set: exactly 5 succeed', async () => {
    expect(await race(ctx)).toEqual({ ok: 5, refused: 15, counted: [{ used: 5 }] });
  });
});
