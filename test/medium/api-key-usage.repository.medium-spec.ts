import { describe, expect, it } from 'vitest';
import { TransactionRunner } from '../../src/db/transaction';
import { ApiKeyUsageRepository, UsageRow } from '../../src/modules/api-keys/api-key-usage.repository';
import { insertApiKey } from '../factories/api-keys';
import { insertUser } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

/** Medium tier: the usage recorder's batch statements (one each, arrays through unnest) on a real database. */
describe('ApiKeyUsageRepository (medium)', () => {
  const ctx = useTestApp();
  const repository = () => ctx.t.app.get(ApiKeyUsageRepository);
  const inTransaction = (work: (tx: Parameters<Parameters<TransactionRunner['run']>[0]>[0]) => Promise<void>) => ctx.t.app.get(TransactionRunner).run(work);
  const hour = new Date('2026-12-07T10:00:00Z');
  const usage = (keyId: string, requests: number, histogram: number[]): UsageRow => ({
    keyId,
    hour,
    requestCount: requests,
    clientErrorCount: 1,
    serverErrorCount: 0,
    latencyHistogram: histogram,
  });

  it("adds a batch's counters and latency histograms to the key's hour, in one statement for any number of keys", async () => {
    const owner = await insertUser(ctx.db);
    const [a, b] = [await insertApiKey(ctx.db, { ownerId: owner.id }), await insertApiKey(ctx.db, { ownerId: owner.id })];
    await inTransaction((tx) => repository().writeUsage(tx, [usage(a.id, 3, [1, 2, 0]), usage(b.id, 1, [0, 0, 1])]));
    await inTransaction((tx) => repository().writeUsage(tx, [usage(a.id, 2, [0, 1, 1])]));
    const { rows } = await ctx.db.query(
      'SELECT key_id, request_count, client_error_count, latency_histogram FROM api_key_usage WHERE key_id = ANY($1) ORDER BY request_count DESC',
      [[a.id, b.id]],
    );
    expect(rows).toEqual([
      { key_id: a.id, request_count: 5, client_error_count: 2, latency_histogram: [1, 3, 1] },
      { key_id: b.id, request_count: 1, client_error_count: 1, latency_histogram: [0, 0, 1] },
    ]);
  });

  it('appends every audit row of a batch, each with its own id, and null user agents stay null', async () => {
    const owner = await insertUser(ctx.db);
    const key = await insertApiKey(ctx.db, { ownerId: owner.id });
    const rows = Array.from({ length: 1_200 }, (_, index) => ({
      keyId: key.id,
      at: new Date(hour.getTime() + index),
      method: 'GET',
      route: '/v1/products',
      status: index % 2 === 0 ? 200 : 404,
      latencyMs: index % 7,
      ip: '203.0.113.9',
      userAgent: index === 0 ? null : `agent "${index}"`,
      requestId: `req-${index}`,
    }));
    await inTransaction((tx) => repository().writeAudit(tx, rows));
    const { rows: stored } = await ctx.db.query(
      'SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, count(user_agent)::int AS agents, max(latency_ms) AS slowest FROM api_key_audit_log WHERE key_id = $1',
      [key.id],
    );
    expect(stored).toEqual([{ n: 1_200, ids: 1_200, agents: 1_199, slowest: 6 }]);
    const { rows: first } = await ctx.db.query("SELECT method, route, status, ip, user_agent, at FROM api_key_audit_log WHERE request_id = 'req-1'");
    expect(first).toEqual([
      { method: 'GET', route: '/v1/products', status: 404, ip: '203.0.113.9', user_agent: 'agent "1"', at: new Date(hour.getTime() + 1) },
    ]);
  });

  it('advances each last-used time in one statement, never backwards (another instance may flush a later time first)', async () => {
    const owner = await insertUser(ctx.db);
    const [a, b] = [await insertApiKey(ctx.db, { ownerId: owner.id }), await insertApiKey(ctx.db, { ownerId: owner.id })];
    const later = new Date('2026-12-07T12:00:00Z');
    const earlier = new Date('2026-12-07T11:00:00Z');
    await inTransaction((tx) => repository().writeLastUsed(tx, new Map([[a.id, later]])));
    await inTransaction((tx) =>
      repository().writeLastUsed(
        tx,
        new Map([
          [a.id, earlier],
          [b.id, earlier],
        ]),
      ),
    );
    const { rows } = await ctx.db.query('SELECT id, last_used_at FROM api_keys WHERE id = ANY($1) ORDER BY last_used_at DESC', [[a.id, b.id]]);
    expect(rows).toEqual([
      { id: a.id, last_used_at: later },
      { id: b.id, last_used_at: earlier },
    ]);
  });
});
