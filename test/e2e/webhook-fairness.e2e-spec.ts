import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { newId } from '../../src/lib/ids';
import * as schema from '../../src/db/schema';
import type { Database } from '../../src/db/database';
import { TransactionRunner } from '../../src/db/transaction';
import { WebhookDeliveriesRepository } from '../../src/modules/webhooks/webhook-deliveries.repository';
import { WebhookDispatcher } from '../../src/modules/webhooks/webhook-dispatcher';
import { insertUser } from '../factories/users';
import { insertWebhookDelivery } from '../factories/webhook-deliveries';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { registerAndLogin } from '../factories/users';
import { Blackhole } from '../helpers/blackhole';
import { callerFor } from '../helpers/http';
import { createTestApp, TestApp, useTestApp } from '../helpers/test-app';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const OPEN = { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' };
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** Issue 19 (medium 4): one tenant cannot starve every other tenant's webhook deliveries. */
describe('fair webhook dispatch: a blackholed tenant and a healthy one (dispatching, 15 s attempts as in production)', () => {
  // The attempt timeout stays at its production default (15 s): the blackholed attempts hold their
  // slots for the whole test, as they would in production.
  const ctx = useTestApp({ env: { ...OPEN, WEBHOOK_DISPATCH: 'true' } });
  const call = callerFor(ctx);

  it("issue 19 (medium 4): one user's 20 blackholed endpoints with 100 due deliveries each; a second user's healthy endpoint gets its event within 5 s", async () => {
    const blackholes = await Promise.all(Array.from({ length: 20 }, () => Blackhole.start()));
    const healthy = await WebhookReceiver.start();
    try {
      const noisy = await registerAndLogin(ctx.t.app);
      const endpointIds: string[] = [];
      for (const blackhole of blackholes) {
        const created = await call('POST', '/v1/webhooks/endpoints', noisy.accessToken, { url: blackhole.url, events: ['*'] });
        expect(created.statusCode, created.body).toBe(201);
        endpointIds.push(created.json<{ id: string }>().id);
      }
      // WEBHOOK_ENDPOINTS_MAX_PER_USER is 20 by default.
      const extra = await call('POST', '/v1/webhooks/endpoints', noisy.accessToken, { url: blackholes[0]!.url, events: ['*'] });
      expect(extra.json()).toMatchObject({ status: 409, code: 'WEBHOOK_ENDPOINT_LIMIT_REACHED' });
      // Due a minute ago: older than anything the healthy user will have.
      await ctx.db.query(
        `INSERT INTO webhook_deliveries (id, endpoint_id, owner_id, subject_user_id, event_id, event_type, body, next_attempt_at)
         SELECT 'whd_bh' || e.n || 'x' || g, e.id, $2, $2, 'evt_bh' || e.n || 'x' || g, 'license.validated', '{}', now() - interval '1 minute' + g * interval '1 ms'
         FROM unnest($1::text[]) WITH ORDINALITY AS e(id, n), generate_series(1, 100) AS g`,
        [endpointIds, noisy.user.id],
      );

      const quiet = await registerAndLogin(ctx.t.app);
      const subscribed = await call('POST', '/v1/webhooks/endpoints', quiet.accessToken, { url: healthy.url, events: ['license.validated'] });
      expect(subscribed.statusCode, subscribed.body).toBe(201);

      // The blackholes hold every slot the noisy endpoints may have: 4 each.
      await vi.waitFor(() => expect(sum(blackholes.map((blackhole) => blackhole.open))).toBe(80), { timeout: 15_000, interval: 50 });

      const payload = { licenseId: newId('lic'), productId: newId('prd'), userId: quiet.user.id, fingerprint: null, validatedAt: new Date().toISOString() };
      const committedAt = Date.now();
      await ctx.db.query('INSERT INTO outbox_messages (id, type, payload) VALUES ($1, $2, $3)', [newId('obx'), 'license.validated', JSON.stringify(payload)]);
      await vi.waitFor(() => expect(healthy.requests).toHaveLength(1), { timeout: 5_000, interval: 20 });
      expect(Date.now() - committedAt).toBeLessThan(5_000);
      expect(JSON.parse(healthy.requests[0]!.body)).toMatchObject({ type: 'license.validated', data: { object: { userId: quiet.user.id } } });

      // Never more than 4 attempts in flight to one endpoint, at the receiver and in the database.
      expect(Math.max(...blackholes.map((blackhole) => blackhole.maxOpen))).toBe(4);
      const leased = await ctx.db.query(
        'SELECT endpoint_id, count(*)::int AS n FROM webhook_deliveries WHERE owner_id = $1 AND lease_until > now() GROUP BY endpoint_id',
        [noisy.user.id],
      );
      expect(leased.rows.map((row: { n: number }) => row.n)).toEqual(Array.from({ length: 20 }, () => 4));
    } finally {
      // No more claims; the hanging attempts end as their sockets close.
      ctx.t.app.get(WebhookDispatcher).onApplicationShutdown();
      await Promise.all([...blackholes.map((blackhole) => blackhole.close()), healthy.close()]);
    }
  });
});

describe('claims across two instances', () => {
  let instances: TestApp[] = [];
  const ctx = useTestApp({ env: OPEN });
  beforeAll(async () => {
    instances = [ctx.t, await createTestApp({ database: ctx.t.database, env: OPEN })];
  });
  afterAll(async () => {
    await instances[1]?.close();
  });

  /** One claim by `instance`, in a transaction of its own as its dispatcher makes it. */
  const claimDue = (instance: TestApp, now: Date, limits: { limit: number; perEndpoint: number }) =>
    instance.app.get(TransactionRunner).run((tx) => instance.app.get(WebhookDeliveriesRepository).claimDue(tx, now, lease(now), limits));
  const lease = (now: Date) => new Date(now.getTime() + 30_000);

  async function endpointWithDue(count: number, columns: Parameters<typeof insertWebhookEndpoint>[2] = {}) {
    const owner = await insertUser(ctx.db);
    const endpoint = await insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId: owner.id, ...columns });
    for (let i = 0; i < count; i++) {
      await insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: owner.id, nextAttemptAt: new Date(Date.now() - 60_000 + i) });
    }
    return endpoint;
  }

  it('issue 19 (medium 4): 20 claims at once from two instances take exactly 4 of one endpoint’s 30 due deliveries, and none more while they are in flight', async () => {
    const endpoint = await endpointWithDue(30);
    const now = new Date();
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => claimDue(instances[i % 2]!, now, { limit: 10, perEndpoint: 4 })));
    const claimed = claims.flat().filter((item) => item.endpoint.id === endpoint.id);
    expect(claimed).toHaveLength(4);
    expect(new Set(claimed.map((item) => item.delivery.id)).size).toBe(4);
    const leased = await ctx.db.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND lease_until > now()', [endpoint.id]);
    expect(leased.rows[0].n).toBe(4);
    expect(await claimDue(instances[1]!, now, { limit: 10, perEndpoint: 4 })).toEqual([]);
    // One attempt recorded: one slot, one more claim.
    await ctx.db.query('UPDATE webhook_deliveries SET lease_until = NULL, status = $2 WHERE id = $1', [claimed[0]!.delivery.id, 'SUCCEEDED']);
    expect(await claimDue(instances[0]!, now, { limit: 10, perEndpoint: 4 })).toHaveLength(1);
    await ctx.db.query("UPDATE webhook_deliveries SET status = 'SUCCEEDED', lease_until = NULL WHERE endpoint_id = $1", [endpoint.id]);
  });

  it('a claim goes round the endpoints: each one’s first due delivery before anyone’s second, however old a backlog is; a failing endpoint gets one slot', async () => {
    const backlog = await endpointWithDue(30);
    const late = [await endpointWithDue(1), await endpointWithDue(1)];
    const failing = await endpointWithDue(5, { failingSince: new Date(Date.now() - 60_000) });
    const now = new Date(Date.now() + 1_000);
    const first = await claimDue(instances[0]!, now, { limit: 4, perEndpoint: 4 });
    expect(first.map((item) => item.endpoint.id).sort()).toEqual([backlog.id, late[0]!.id, late[1]!.id, failing.id].sort());
    const second = await claimDue(instances[1]!, now, { limit: 10, perEndpoint: 4 });
    // The backlog's three other slots; the failing endpoint already has its one attempt in flight.
    expect(second.map((item) => item.endpoint.id)).toEqual([backlog.id, backlog.id, backlog.id]);
    await ctx.db.query("UPDATE webhook_deliveries SET status = 'SUCCEEDED', lease_until = NULL WHERE status = 'PENDING'");
  });

  it('two dispatching instances hold at most 4 attempts to a blackholed endpoint between them', async () => {
    const blackhole = await Blackhole.start();
    const dispatching = await Promise.all([0, 1].map(() => createTestApp({ database: ctx.t.database, env: { ...OPEN, WEBHOOK_DISPATCH: 'true' } })));
    try {
      await endpointWithDue(10, { url: blackhole.url });
      await vi.waitFor(() => expect(blackhole.open).toBe(4), { timeout: 10_000, interval: 50 });
      // A few more rounds of both, while those four hang.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(blackhole.open).toBe(4);
      expect(blackhole.maxOpen).toBe(4);
      expect(blackhole.connections).toBe(4);
    } finally {
      for (const instance of dispatching) instance.app.get(WebhookDispatcher).onApplicationShutdown();
      await blackhole.close();
      await Promise.all(dispatching.map((instance) => instance.close()));
    }
  });
});

describe('slot handover (issue 21: outbound delivery)', () => {
  const ctx = useTestApp({ env: OPEN });

  it('two dispatching instances drain a healthy endpoint’s 120 due deliveries, most slots handed from one attempt to the next: each delivery arrives once, never more than 4 in flight between them', async () => {
    const receiver = await WebhookReceiver.start();
    // Each answer waits a little, so attempts overlap and the limit is tested.
    receiver.answer(...Array.from({ length: 120 }, () => ({ status: 204, delayMs: 5 })));
    const owner = await insertUser(ctx.db);
    const endpoint = await insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId: owner.id, url: receiver.url });
    for (let i = 0; i < 120; i++) {
      await insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: owner.id, nextAttemptAt: new Date(Date.now() - 60_000 + i) });
    }
    const dispatching = await Promise.all([0, 1].map(() => createTestApp({ database: ctx.t.database, env: { ...OPEN, WEBHOOK_DISPATCH: 'true' } })));
    let claimed = 0;
    let handedOver = 0;
    for (const instance of dispatching) {
      const repository = instance.app.get(WebhookDeliveriesRepository);
      const claimDue = repository.claimDue.bind(repository);
      vi.spyOn(repository, 'claimDue').mockImplementation(async (...args) => {
        const items = await claimDue(...args);
        claimed += items.filter((item) => item.endpoint.id === endpoint.id).length;
        return items;
      });
      const recordAttempts = repository.recordAttempts.bind(repository);
      vi.spyOn(repository, 'recordAttempts').mockImplementation(async (...args) => {
        const result = await recordAttempts(...args);
        handedOver += result.handedOver.length;
        return result;
      });
    }
    try {
      await vi.waitFor(
        async () => {
          const done = await ctx.db.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'SUCCEEDED'", [endpoint.id]);
          expect(done.rows[0].n).toBe(120);
        },
        { timeout: 30_000, interval: 100 },
      );
      expect(receiver.requests).toHaveLength(120);
      expect(receiver.byWebhookId().size).toBe(120);
      expect(receiver.maxInProgress).toBeLessThanOrEqual(4);
      expect(receiver.maxInProgress).toBeGreaterThan(1);
      // Every attempt was either claimed or handed over, exactly once; most were handed over.
      expect(claimed + handedOver).toBe(120);
      expect(handedOver).toBeGreaterThan(60);
      const attempts = await ctx.db.query(
        'SELECT count(*)::int AS n FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = $1',
        [endpoint.id],
      );
      expect(attempts.rows[0].n).toBe(120);
    } finally {
      for (const instance of dispatching) instance.app.get(WebhookDispatcher).onApplicationShutdown();
      await Promise.all(dispatching.map((instance) => instance.close()));
      await receiver.close();
    }
  });

  it('a failing endpoint is never handed a slot: each of its attempts goes back to the fair claim, one at a time', async () => {
    const receiver = await WebhookReceiver.start();
    receiver.answer(...Array.from({ length: 3 }, () => ({ status: 503, delayMs: 5 })));
    const owner = await insertUser(ctx.db);
    const endpoint = await insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId: owner.id, url: receiver.url });
    for (let i = 0; i < 3; i++) {
      await insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: owner.id, nextAttemptAt: new Date(Date.now() - 60_000 + i) });
    }
    const dispatching = await createTestApp({ database: ctx.t.database, env: { ...OPEN, WEBHOOK_DISPATCH: 'true' } });
    const repository = dispatching.app.get(WebhookDeliveriesRepository);
    const recordAttempts = repository.recordAttempts.bind(repository);
    const asked: (Map<string, number> | undefined)[] = [];
    vi.spyOn(repository, 'recordAttempts').mockImplementation(async (rows, handOver) => {
      asked.push(handOver?.endpoints);
      return recordAttempts(rows, handOver);
    });
    try {
      await vi.waitFor(() => expect(receiver.requests).toHaveLength(3), { timeout: 10_000, interval: 50 });
      await vi.waitFor(() => expect(asked.length).toBeGreaterThanOrEqual(1), { timeout: 5_000, interval: 20 });
      expect(asked.every((endpoints) => !endpoints?.has(endpoint.id))).toBe(true);
    } finally {
      dispatching.app.get(WebhookDispatcher).onApplicationShutdown();
      await dispatching.close();
      await receiver.close();
    }
  });
});

describe('slot handover and leases', () => {
  const ctx = useTestApp({ env: OPEN });

  it('an attempt recorded after its lease ran out hands over no slot (another claim may already hold it); one recorded in time does', async () => {
    const owner = await insertUser(ctx.db);
    const endpoint = await insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId: owner.id });
    const now = new Date();
    const repository = ctx.t.app.get(WebhookDeliveriesRepository);
    const waiting = await insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: owner.id, nextAttemptAt: new Date(now.getTime() - 60_000) });
    const attempt = (deliveryId: string, lease: Date) => ({
      attempt: { id: newId('wha'), deliveryId, attemptedAt: now, statusCode: 204, durationMs: 3, responseBody: null, failure: null },
      next: { status: 'SUCCEEDED' as const, nextAttemptAt: null, lastError: null, completedAt: now },
      lease,
    });
    const handOver = { endpoints: new Map([[endpoint.id, 1]]), now, leaseUntil: new Date(now.getTime() + 30_000) };

    const lapsedLease = new Date(now.getTime() - 1_000);
    const lapsed = await insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: owner.id, leaseUntil: lapsedLease, attemptCount: 1 });
    const late = await repository.recordAttempts([attempt(lapsed.id, lapsedLease)], handOver);
    expect([...late.recorded]).toEqual([lapsed.id]);
    expect(late.handedOver).toEqual([]);

    const liveLease = new Date(now.getTime() + 10_000);
    const live = await insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: owner.id, leaseUntil: liveLease, attemptCount: 1 });
    const inTime = await repository.recordAttempts([attempt(live.id, liveLease)], handOver);
    expect([...inTime.recorded]).toEqual([live.id]);
    expect(inTime.handedOver.map((item) => item.delivery.id)).toEqual([waiting.id]);
    expect(inTime.handedOver[0]!.delivery).toMatchObject({ attemptCount: 1, leaseUntil: handOver.leaseUntil });
  });
});

describe('the prepared recording statement across a migration', () => {
  const ctx = useTestApp({ env: OPEN });

  it('keeps working on connections that prepared it after a column is added to webhook_deliveries (no `*` in its result)', async () => {
    const owner = await insertUser(ctx.db);
    const endpoint = await insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId: owner.id });
    const repository = ctx.t.app.get(WebhookDeliveriesRepository);
    const now = new Date();
    const handOver = { endpoints: new Map([[endpoint.id, 1]]), now, leaseUntil: new Date(now.getTime() + 30_000) };
    const round = async () => {
      const lease = new Date(Date.now() + 10_000);
      await insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: owner.id, nextAttemptAt: new Date(now.getTime() - 60_000) });
      const held = await insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: owner.id, leaseUntil: lease, attemptCount: 1 });
      const attempt = { id: newId('wha'), deliveryId: held.id, attemptedAt: now, statusCode: 204, durationMs: 3, responseBody: null, failure: null };
      const next = { status: 'SUCCEEDED' as const, nextAttemptAt: null, lastError: null, completedAt: now };
      const result = await repository.recordAttempts([{ attempt, next, lease }], handOver);
      expect([...result.recorded]).toEqual([held.id]);
      expect(result.handedOver).toHaveLength(1);
      // Done with the handed-over one too, so the next round's successor is the one it inserts.
      await ctx.db.query("UPDATE webhook_deliveries SET status = 'SUCCEEDED', lease_until = NULL WHERE id = $1", [result.handedOver[0]!.delivery.id]);
    };
    // Prepared on the pool's connections first…
    await Promise.all([round(), round(), round()]);
    await ctx.db.query('ALTER TABLE webhook_deliveries ADD COLUMN added_by_a_migration integer');
    // …then run again on them.
    for (let i = 0; i < 4; i++) await round();
  });
});

describe('endpointsFor on many endpoints', () => {
  const ctx = useTestApp();

  it('issue 19 (medium 4): the fan-out’s endpoint lookup is served by indexes, without a scan of webhook_endpoints (EXPLAIN)', async () => {
    await ctx.db.query(`
      INSERT INTO users (id, email, first_name, last_name, locale, timezone, role, status)
      SELECT 'usr_plan' || g, 'plan' || g || '@example.com', 'A', 'B', 'en-GB', 'UTC', CASE WHEN g <= 3 THEN 'ADMIN' ELSE 'USER' END::user_role, 'ACTIVE'
      FROM generate_series(1, 2000) AS g`);
    await ctx.db.query(`
      INSERT INTO webhook_endpoints (id, owner_id, scope, url, events, secret_sealed)
      SELECT 'whe_plan' || g, 'usr_plan' || ((g - 1) % 2000 + 1), CASE WHEN g <= 3 THEN 'all' ELSE 'own' END::webhook_endpoint_scope,
             'https://hooks.example.com/' || g, ARRAY['*'], 'sealed'
      FROM generate_series(1, 5000) AS g`);
    await ctx.db.query('ANALYZE users, webhook_endpoints');

    const queries: { sql: string; params: unknown[] }[] = [];
    const db = drizzle({
      client: ctx.db,
      schema,
      casing: 'snake_case',
      logger: { logQuery: (sql, params) => queries.push({ sql, params }) },
    }) as unknown as Database;
    // endpointsFor reads through drizzle only; the pool (for the prepared recording) is not used here.
    const repository = new WebhookDeliveriesRepository(db, ctx.db as unknown as Pool);
    const aboutOne = await repository.endpointsFor(db, 'license.validated', 'usr_plan77');
    const aboutNobody = await repository.endpointsFor(db, 'license.validated', null);
    expect(aboutOne.map((endpoint) => endpoint.id).sort()).toEqual(
      ['whe_plan1', 'whe_plan2', 'whe_plan2077', 'whe_plan3', 'whe_plan4077', 'whe_plan77'].sort(),
    );
    expect(aboutNobody.map((endpoint) => endpoint.id).sort()).toEqual(['whe_plan1', 'whe_plan2', 'whe_plan3']);

    expect(queries).toHaveLength(2);
    for (const query of queries) {
      const plan = (await ctx.db.query(`EXPLAIN ${query.sql}`, query.params)).rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
      expect(plan).not.toMatch(/Seq Scan on webhook_endpoints/);
      expect(plan).toMatch(/webhook_endpoints_all_scope_idx/);
    }
    const [own] = queries;
    expect((await ctx.db.query(`EXPLAIN ${own!.sql}`, own!.params)).rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')).toMatch(
      /webhook_endpoints_owner_idx/,
    );
  });
});

describe('the fan-out’s insert', () => {
  const ctx = useTestApp();

  it('writes 12,000 deliveries (past the 65,535 parameters a row-per-parameter insert could carry) in one statement, and a repeat adds none', async () => {
    const owner = await insertUser(ctx.db);
    const endpoints = await Promise.all(Array.from({ length: 3 }, () => insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId: owner.id })));
    const now = new Date();
    const rows = Array.from({ length: 4_000 }, (_, n) => n).flatMap((n) =>
      endpoints.map((endpoint) => ({
        endpointId: endpoint.id,
        ownerId: owner.id,
        subjectUserId: owner.id,
        eventId: `evt_fanout${n}`,
        eventType: 'license.revoked',
        body: JSON.stringify({ n }),
        nextAttemptAt: now,
      })),
    );
    const repository = ctx.t.app.get(WebhookDeliveriesRepository);
    await ctx.t.app.get(TransactionRunner).run((tx) => repository.insertMany(tx, rows));
    await ctx.t.app.get(TransactionRunner).run((tx) => repository.insertMany(tx, rows.slice(0, 100)));
    const stored = await ctx.db.query(
      "SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, bool_and(status = 'PENDING' AND attempt_count = 0 AND created_at IS NOT NULL) AS fresh FROM webhook_deliveries WHERE owner_id = $1",
      [owner.id],
    );
    expect(stored.rows[0]).toEqual({ n: 12_000, ids: 12_000, fresh: true });
    const sample = await ctx.db.query("SELECT body, event_type, next_attempt_at FROM webhook_deliveries WHERE event_id = 'evt_fanout123' LIMIT 1");
    expect(sample.rows[0]).toEqual({ body: '{"n":123}', event_type: 'license.revoked', next_attempt_at: now });
  });
});
