import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyUsageRecorder } from '../../src/modules/api-keys/api-key-usage.recorder';
import { registerAndLogin } from '../factories/users';
import { ProbeModule } from '../fixtures/probe.module';
import { createTestApp, createTestDatabase, TestDatabase } from '../helpers/test-app';
import { freeTierOnConfiguredRateLimit } from '../factories/subscriptions';

describe('API key usage statistics and audit log', () => {
  // Not useTestApp: each test boots its own app on one shared database, with its own settings and a close mid-test.
  let database: TestDatabase;
  let db: Client;
  beforeAll(async () => {
    database = await createTestDatabase('usage');
    db = new Client({ connectionString: database.url });
    await db.connect();
    await freeTierOnConfiguredRateLimit(db);
  });
  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  async function setup() {
    const t = await createTestApp({ database, extraModules: [ProbeModule] });
    const owner = await registerAndLogin(t.app);
    const create = async (environment: 'live' | 'test') => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        payload: JSON.stringify({ name: environment, scope: 'read-only', environment }),
        headers: { authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json' },
      });
      return response.json<{ id: string; key: string }>();
    };
    const get = (key: string, url: string) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}`, 'user-agent': 'usage-test/1.0' } });
    return { t, owner, live: await create('live'), test: await create('test'), get };
  }

  /** 3 × 200, 2 × 404, 1 × 500. */
  async function traffic(get: (key: string, url: string) => Promise<{ statusCode: number; headers: Record<string, unknown> }>, key: string) {
    const statuses: number[] = [];
    const requestIds: unknown[] = [];
    for (const url of [
      '/v1/users/me',
      '/v1/users/me',
      '/v1/users/me',
      '/v1/api-keys/key_01jh8x2v3kf6qz9w0c4m5t7r8y',
      '/v1/api-keys/key_01jh8x2v3kf6qz9w0c4m5t7r8z',
      '/test-probe/protected-crash',
    ]) {
      const response = await get(key, url);
      statuses.push(response.statusCode);
      requestIds.push(response.headers['x-request-id']);
    }
    expect(statuses).toEqual([200, 200, 200, 404, 404, 500]);
    return requestIds;
  }

  it('matches the requests made, after a flush: N audit rows for a live key, and for a test key too (issue 8 #6), and the 4xx/5xx split', async () => {
    const { t, owner, live, test, get } = await setup();
    try {
      const requestIds = await traffic(get, live.key);
      for (let i = 0; i < 2; i++) expect((await get(test.key, '/v1/users/me')).statusCode).toBe(200);

      const { rows: before } = await db.query('SELECT count(*)::int AS n FROM api_key_audit_log WHERE key_id = $1', [live.id]);
      expect(before[0].n).toBe(0);
      await t.app.get(ApiKeyUsageRecorder).flush();

      const audit = await t.app.inject({
        method: 'GET',
        url: `/v1/api-keys/${live.id}/audit-log?limit=100`,
        headers: { authorization: `Bearer ${owner.accessToken}` },
      });
      const items = audit.json().items as Array<{ route: string; status: number; requestId: string; userAgent: string; method: string; latencyMs: number }>;
      expect(items).toHaveLength(6);
      expect(items.map((item) => item.requestId)).toEqual([...requestIds].reverse());
      expect(items.map((item) => item.status)).toEqual([500, 404, 404, 200, 200, 200]);
      expect(items[1]).toMatchObject({ method: 'GET', route: '/v1/api-keys/:id', userAgent: 'usage-test/1.0' });
      // Test keys act on the same data as live ones, so they are audited too.
      const { rows: testAudit } = await db.query('SELECT method, route, status FROM api_key_audit_log WHERE key_id = $1', [test.id]);
      expect(testAudit).toEqual(Array(2).fill({ method: 'GET', route: '/v1/users/me', status: 200 }));

      const usage = await t.app.inject({
        method: 'GET',
        url: `/v1/api-keys/${live.id}/usage?granularity=day`,
        headers: { authorization: `Bearer ${owner.accessToken}` },
      });
      expect(usage.statusCode).toBe(200);
      expect(usage.json()).toMatchObject({ keyId: live.id, granularity: 'day', lastUsedAt: expect.any(String) });
      expect(usage.json().buckets).toEqual([
        expect.objectContaining({ requestCount: 6, clientErrorCount: 2, serverErrorCount: 1, errorRate: 0.5, p95LatencyMs: expect.any(Number) }),
      ]);
      const testUsage = await t.app.inject({ method: 'GET', url: `/v1/api-keys/${test.id}/usage`, headers: { authorization: `Bearer ${owner.accessToken}` } });
      expect(testUsage.json().buckets).toEqual([expect.objectContaining({ requestCount: 2, clientErrorCount: 0, serverErrorCount: 0, errorRate: 0 })]);
    } finally {
      await t.close();
    }
  });

  it('loses nothing on a graceful shutdown', async () => {
    const { t, live, get } = await setup();
    await traffic(get, live.key);
    await t.close();
    const { rows } = await db.query(
      `SELECT (SELECT count(*)::int FROM api_key_audit_log WHERE key_id = $1) AS audit,
              (SELECT sum(request_count)::int FROM api_key_usage WHERE key_id = $1) AS requests,
              (SELECT sum(server_error_count)::int FROM api_key_usage WHERE key_id = $1) AS server_errors,
              (SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = $1) AS used`,
      [live.id],
    );
    expect(rows[0]).toEqual({ audit: 6, requests: 6, server_errors: 1, used: true });
  });

  it('counts requests the guards refused before authentication: a 429 and a malformed body', async () => {
    // The owner's bucket: one request to create the key, then two with it, then 429.
    const t = await createTestApp({ database, env: { RATE_LIMIT_AUTHENTICATED: '3/60' } });
    try {
      const owner = await registerAndLogin(t.app);
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        payload: JSON.stringify({ name: 'limited', scope: 'read-write' }),
        headers: { authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json' },
      });
      const { id, key } = created.json<{ id: string; key: string }>();
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await t.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${key}` } })).statusCode);
      expect(statuses).toEqual([200, 200, 429]);
      const malformed = await t.app.inject({
        method: 'PATCH',
        url: '/v1/users/update',
        payload: '{"firstName":',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
      expect(malformed.statusCode).toBe(400);
      // onResponse hooks run after the response is sent; let the last one finish.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await t.app.get(ApiKeyUsageRecorder).flush();
      const { rows } = await db.query('SELECT request_count, client_error_count FROM api_key_usage WHERE key_id = $1', [id]);
      const { rows: audit } = await db.query('SELECT status FROM api_key_audit_log WHERE key_id = $1 ORDER BY id', [id]);
      expect(audit.map((row: { status: number }) => row.status)).toEqual([200, 200, 429, 400]);
      expect(rows).toEqual([{ request_count: 4, client_error_count: 2 }]);
    } finally {
      await t.close();
    }
  });

  it("hides another user's key usage and audit log", async () => {
    const { t, live } = await setup();
    try {
      const other = await registerAndLogin(t.app);
      for (const url of [`/v1/api-keys/${live.id}/usage`, `/v1/api-keys/${live.id}/audit-log`]) {
        const response = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${other.accessToken}` } });
        expect(response.statusCode).toBe(404);
      }
    } finally {
      await t.close();
    }
  });
});
