import type { LightMyRequestResponse as Response } from 'fastify';
import { Client, Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_POOL, isQueryTimeout } from '../../src/db/database';
import { API_KEY_CACHE_TTL_MS } from '../../src/modules/api-keys/api-key-authenticator';
import { ApiKeyUsageRecorder, MAX_PENDING_AUDIT_ROWS } from '../../src/modules/api-keys/api-key-usage.recorder';
import { ProbeModule } from '../fixtures/probe.module';
import { insertApiKey } from '../factories/api-keys';
import { insertLicense } from '../factories/licenses';
import { registerAndLogin } from '../factories/users';
import { TestPostgresServer } from '../helpers/postgres-server';
import { createTestApp, TestApp } from '../helpers/test-app';

const QUERY_TIMEOUT_MS = 1_500;
const CONNECT_TIMEOUT_MS = 1_000;
/** The readiness probe's own bound (health.repository.ts). */
const PING_TIMEOUT_MS = 2_000;
/** Scheduling on a loaded 2-core machine, on top of each bound. */
const SLACK_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean, ms = 1_000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(20)) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
  }
}

/**
 * Issue 20, measured item 1 and item 7. Runs against a Postgres cluster of its own, frozen with
 * SIGSTOP: the server's own statement and lock timeouts cannot fire then; only the client's can.
 */
describe('#20 a frozen database (SIGSTOP): 503 with Retry-After within the client query timeout, never a hang; recovery on SIGCONT', () => {
  let pg: TestPostgresServer;
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    pg = await TestPostgresServer.start();
    t = await createTestApp({
      database: pg.testDatabase,
      migrate: true,
      extraModules: [ProbeModule],
      env: {
        DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DATABASE_STATEMENT_TIMEOUT_MS: '1000',
        DATABASE_LOCK_TIMEOUT_MS: '500',
        DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        // The background pollers (mail sender, webhook dispatcher) also wait on the frozen pool, which
        // would blur the check below that the requests' connections were all given back.
        MAIL_SEND: 'false',
        WEBHOOK_DISPATCH: 'false',
      },
    });
    db = new Client({ connectionString: pg.url });
    await db.connect();
  });
  afterAll(async () => {
    pg?.thaw();
    await db?.end();
    await t?.close();
    await pg?.remove();
  });

  const pool = () => t.app.get<Pool>(DB_POOL);
  const get = (url: string, authorization?: string) => t.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });
  const activate = (key: string, fingerprint: string) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/licenses/activate',
      payload: JSON.stringify({ key, fingerprint }),
      headers: { 'content-type': 'application/json' },
      remoteAddress: '192.0.2.120',
    });
  /** The response and how long it took, from the moment it was sent. */
  const timed = async (send: () => Promise<Response>) => {
    const started = Date.now();
    const response = await send();
    return { response, ms: Date.now() - started };
  };

  function expectUnavailable({ response, ms }: { response: Response; ms: number }, boundMs: number) {
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(response.headers['retry-after']).toBe('5');
    expect(ms).toBeLessThan(boundMs);
  }

  it('queries running, requests in flight and new ones (an authenticated GET, a transaction, /health/ready) all answer 503 within the bound; timed-out connections are closed; SIGCONT and it serves again', async () => {
    const { accessToken } = await registerAndLogin(t.app);
    const bearer = `Bearer ${accessToken}`;
    const license = await insertLicense(db, { maxActivations: 5 });
    expect((await get('/v1/users/me', bearer)).statusCode).toBe(200);
    expect((await get('/health/ready')).statusCode).toBe(200);
    // Enough open connections that each request below gets one (a new one could not be opened).
    await Promise.all(Array.from({ length: 6 }, () => get('/test-probe/db-sleep?ms=100')));

    // Every client pg-pool gets back with an error it closes; a timed-out one must come back so.
    const releasedOnTimeout: Error[] = [];
    const onRelease = (error: Error | undefined) => isQueryTimeout(error) && releasedOnTimeout.push(error!);
    pool().on('release', onRelease);

    // Started before the freeze: one query the server is running when it stops, one request that
    // reaches the database only after.
    const running = timed(() => get('/test-probe/db-sleep?ms=400'));
    const inFlight = timed(() => get('/test-probe/slow?ms=300'));
    await sleep(100);
    await pg.freeze();
    try {
      const [me, activation, probe] = await Promise.all([
        timed(() => get('/v1/users/me', bearer)),
        timed(() => activate(license.key, 'frozen-machine')),
        timed(() => get('/health/ready')),
      ]);
      const queryBound = QUERY_TIMEOUT_MS + SLACK_MS;
      expectUnavailable(await running, queryBound + 100);
      expectUnavailable(await inFlight, queryBound + 300);
      expectUnavailable(me, queryBound);
      // A transaction whose statement timed out is not rolled back behind it (a second timeout):
      // its connection is closed, which ends the transaction on the server.
      expectUnavailable(activation, queryBound);
      expectUnavailable(probe, PING_TIMEOUT_MS + SLACK_MS);
      expect((await get('/health/live')).statusCode).toBe(200);

      // The five above (the probe's connection a moment after its answer), and any usage flush meanwhile.
      await eventually(() => releasedOnTimeout.length >= 5);
      // What is left in the pool is idle, with nothing queued on it.
      expect(pool().totalCount).toBe(pool().idleCount);
      expect(pool().waitingCount).toBe(0);
    } finally {
      pool().off('release', onRelease);
      pg.thaw();
    }

    // Back at once, without a restart, and nothing of the refused activation was written.
    const ready = await get('/health/ready');
    expect(ready.statusCode, ready.body).toBe(200);
    expect((await get('/v1/users/me', bearer)).statusCode).toBe(200);
    expect((await db.query('SELECT 1 FROM activations WHERE license_id = $1', [license.id])).rowCount).toBe(0);
    const after = await activate(license.key, 'thawed-machine');
    expect(after.statusCode, after.body).toBe(201);
    expect((await db.query('SELECT fingerprint FROM activations WHERE license_id = $1', [license.id])).rows).toEqual([{ fingerprint: 'thawed-machine' }]);
  });

  it("item 7: a request refused during the freeze is in its key's audit log and usage when this instance had seen the key, even after its cache entry expired; an unseen key's request is not", async () => {
    const seen = await insertApiKey(db, { scope: 'read-only' });
    const unseen = await insertApiKey(db, { scope: 'read-only' });
    expect((await get('/v1/users/me', `Bearer ${seen.key}`)).statusCode).toBe(200);
    const recorder = t.app.get(ApiKeyUsageRecorder);
    await sleep(50);
    await recorder.flush();

    await pg.freeze();
    try {
      // Within the cache's lifetime: authenticated from the cache, then the handler's query times out.
      expect((await get('/v1/users/me', `Bearer ${seen.key}`)).statusCode).toBe(503);
      // Past it: the key itself cannot be looked up.
      await sleep(API_KEY_CACHE_TTL_MS);
      expect((await get('/v1/users/me', `Bearer ${seen.key}`)).statusCode).toBe(503);
      expect((await get('/v1/users/me', `Bearer ${unseen.key}`)).statusCode).toBe(503);
      await sleep(50);
      // Flushes during the freeze time out and keep their rows.
      await recorder.flush();
    } finally {
      pg.thaw();
    }
    await recorder.flush();

    const audit = await db.query('SELECT route, status FROM api_key_audit_log WHERE key_id = $1 ORDER BY id', [seen.id]);
    expect(audit.rows).toEqual([
      { route: '/v1/users/me', status: 200 },
      { route: '/v1/users/me', status: 503 },
      { route: '/v1/users/me', status: 503 },
    ]);
    const usage = await db.query('SELECT sum(request_count)::int AS requests, sum(server_error_count)::int AS errors FROM api_key_usage WHERE key_id = $1', [
      seen.id,
    ]);
    expect(usage.rows).toEqual([{ requests: 3, errors: 2 }]);
    expect((await db.query('SELECT 1 FROM api_key_audit_log WHERE key_id = $1', [unseen.id])).rowCount).toBe(0);
  }, 60_000);

  it('item 7: during an outage at most 100,000 audit rows wait in memory; the oldest are dropped and counted, the rest written once the database is back', async () => {
    const key = await insertApiKey(db, { scope: 'read-only' });
    const recorder = t.app.get(ApiKeyUsageRecorder);
    const before = recorder.dropped.audit;
    const request = (i: number) => ({
      keyId: key.id,
      at: new Date(),
      method: 'GET',
      route: `/overflow/${i}`,
      status: 503,
      latencyMs: 1,
      ip: '192.0.2.121',
      userAgent: undefined,
      requestId: `overflow-${i}`,
    });
    await pg.freeze();
    try {
      for (let i = 0; i < MAX_PENDING_AUDIT_ROWS + 5; i++) recorder.record(request(i));
      await recorder.flush();
    } finally {
      pg.thaw();
    }
    expect(recorder.dropped.audit).toBe(before + 5);
    await recorder.flush();

    const { rows } = await db.query<{ n: number; first: string }>(
      "SELECT count(*)::int AS n, min(substring(route from 11)::int)::text AS first FROM api_key_audit_log WHERE key_id = $1 AND route LIKE '/overflow/%'",
      [key.id],
    );
    expect(rows).toEqual([{ n: MAX_PENDING_AUDIT_ROWS, first: '5' }]);
    const usage = await db.query('SELECT sum(request_count)::int AS requests FROM api_key_usage WHERE key_id = $1', [key.id]);
    expect(usage.rows).toEqual([{ requests: MAX_PENDING_AUDIT_ROWS + 5 }]);
  }, 60_000);
});
