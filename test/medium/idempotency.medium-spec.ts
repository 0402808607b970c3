import type { FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IdempotencyClaim } from '../../src/common/idempotency/idempotency.replay';
import { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_RETENTION_MS, IdempotencyService } from '../../src/common/idempotency/idempotency.service';
import { Retention } from '../../src/common/background';
import { unique } from '../factories/db';
import { domainError } from '../helpers/principals';
import { setClock } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

// Ahead of every row the other tests write on the real clock, so the purge test may expect them all gone.
const NOW = new Date(Date.now() + 30 * 24 * 3_600_000);
const at = (ms: number) => new Date(NOW.getTime() + ms);

/** What the service reads of a request: its caller, method, path and body. */
function request(options: { userId?: string; ip?: string; url?: string; body?: unknown } = {}): FastifyRequest {
  const { userId = 'usr_medium', ip = '203.0.113.7', url = '/v1/api-keys', body = { name: 'ci', scope: 'read-only' } } = options;
  const principal = userId ? { kind: 'user', userId } : undefined;
  return { method: 'POST', url, body, ip, headers: {}, principal } as unknown as FastifyRequest;
}

/** Medium tier: the real IdempotencyService and repository on this file's database, called without HTTP. */
describe('IdempotencyService (medium)', () => {
  const ctx = useTestApp();
  const service = () => ctx.t.app.get(IdempotencyService);
  const rows = async () => (await ctx.db.query('SELECT * FROM idempotency_keys ORDER BY created_at')).rows;
  const claimOf = async (req: FastifyRequest, key: string): Promise<IdempotencyClaim> => {
    const outcome = await service().begin(req, key);
    if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${outcome.kind}`);
    return outcome.claim;
  };
  afterEach(() => vi.restoreAllMocks());

  it('of 10 parallel first uses of one key exactly one claims it; the others are told it is in use', async () => {
    const key = `k-${unique()}`;
    const req = request({ userId: `usr_${unique()}` });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => service().begin(req, key)));

    const claimed = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(claimed).toHaveLength(1);
    expect(claimed[0]).toMatchObject({ value: { kind: 'claimed' } });
    for (const refused of outcomes.filter((outcome) => outcome.status === 'rejected')) {
      expect(refused.reason).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE', options: { params: { retryAfter: 1 } } });
    }
  });

  it('a finished claim is replayed with its status, body and only the replayable headers; the body is sealed at rest', async () => {
    const key = `k-${unique()}`;
    const req = request({ userId: `usr_${unique()}` });
    const claim = await claimOf(req, key);
    const body = JSON.stringify({ id: 'key_1', secret: `gh_live_${unique()}` });
    await service().finish(
      claim,
      201,
      { 'content-type': 'application/json', location: '/v1/api-keys/key_1', 'x-quota-remaining': '3', 'set-cookie': 'a=b' },
      body,
    );

    // The same body in another key order is the same request.
    const replay = await service().begin(request({ userId: (req.principal as { userId: string }).userId, body: { scope: 'read-only', name: 'ci' } }), key);
    expect(replay).toEqual({ kind: 'replay', reply: { status: 201, headers: { 'content-type': 'application/json', location: '/v1/api-keys/key_1' }, body } });
    expect(JSON.stringify(await rows())).not.toContain(JSON.parse(body).secret);
  });

  it('the key is bound to its body: another body is refused while the first is in flight and after it completes', async () => {
    const key = `k-${unique()}`;
    const userId = `usr_${unique()}`;
    const claim = await claimOf(request({ userId }), key);
    const other = request({ userId, body: { name: 'other', scope: 'read-only' } });
    expect(await domainError(service().begin(other, key))).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 });
    await service().finish(claim, 200, {}, '{}');
    expect(await domainError(service().begin(other, key))).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('a key is scoped to the caller and the path: the same key elsewhere is a claim of its own', async () => {
    const key = `k-${unique()}`;
    await claimOf(request({ userId: `usr_${unique()}` }), key);
    await claimOf(request({ userId: `usr_${unique()}` }), key);
    await claimOf(request({ userId: `usr_${unique()}`, url: '/v1/licenses?x=1' }), key);
    // On a public route the caller is its address.
    await claimOf(request({ userId: '', ip: '198.51.100.1' }), key);
    await claimOf(request({ userId: '', ip: '198.51.100.2' }), key);
    // The query string is not part of the path.
    const licensesCaller = request({ userId: `usr_${unique()}`, url: '/v1/licenses?x=1' });
    await claimOf(licensesCaller, key);
    await expect(service().begin({ ...licensesCaller, url: '/v1/licenses?y=2' }, key)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_IN_USE',
    });
  });

  it('a 5xx, or an input never acted on, frees the key for a retry (which may send another body); a 4xx is stored', async () => {
    const userId = `usr_${unique()}`;
    const failed = `k-${unique()}`;
    await service().finish(await claimOf(request({ userId }), failed), 503, {}, '{"code":"UNAVAILABLE"}');
    await claimOf(request({ userId, body: { name: 'retry', scope: 'read-only' } }), failed);

    const invalid = `k-${unique()}`;
    const claim = await claimOf(request({ userId }), invalid);
    claim.storable = false;
    await service().finish(claim, 422, {}, '{"code":"VALIDATION_FAILED"}');
    await claimOf(request({ userId }), invalid);

    const conflict = `k-${unique()}`;
    await service().finish(await claimOf(request({ userId }), conflict), 409, {}, '{"code":"CONFLICT"}');
    expect(await service().begin(request({ userId }), conflict)).toMatchObject({ kind: 'replay', reply: { status: 409, body: '{"code":"CONFLICT"}' } });
  });

  it("an in-flight claim whose lease lapsed is taken over, and the first claimant's late answer is not stored over it", async () => {
    const key = `k-${unique()}`;
    const req = request({ userId: `usr_${unique()}` });
    setClock(ctx.t.app, NOW);
    const stale = await claimOf(req, key);
    setClock(ctx.t.app, at(IDEMPOTENCY_LEASE_MS - 1000));
    await expect(service().begin(req, key)).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE' });

    setClock(ctx.t.app, at(IDEMPOTENCY_LEASE_MS + 1000));
    const fresh = await claimOf(req, key);
    expect(fresh.claimId).not.toBe(stale.claimId);
    await service().finish(stale, 201, {}, '"late"');
    await service().finish(fresh, 201, {}, '"fresh"');
    expect(await service().begin(req, key)).toMatchObject({ kind: 'replay', reply: { body: '"fresh"' } });
  });

  it('a completed answer is replayed for 24 h; then the key is free again, and the purge removes only expired rows', async () => {
    const key = `k-${unique()}`;
    const req = request({ userId: `usr_${unique()}` });
    setClock(ctx.t.app, NOW);
    await service().finish(await claimOf(req, key), 201, {}, '"first"');
    setClock(ctx.t.app, at(IDEMPOTENCY_RETENTION_MS - 1000));
    expect(await service().begin(req, key)).toMatchObject({ kind: 'replay', reply: { body: '"first"' } });

    setClock(ctx.t.app, at(IDEMPOTENCY_RETENTION_MS + 1000));
    const fresh = await claimOf(request({ userId: (req.principal as { userId: string }).userId, body: { another: 'body' } }), key);
    expect(fresh.claimId).toBeDefined();

    const before = (await rows()).length;
    setClock(ctx.t.app, at(2 * IDEMPOTENCY_RETENTION_MS + 2000));
    const keepId = (await claimOf(request({ userId: `usr_${unique()}` }), `k-${unique()}`)).id;
    const purged = await ctx.t.app.get(Retention).run('expired idempotency keys');
    expect(purged).toBe(before);
    expect((await rows()).map((row) => row.id)).toEqual([keepId]);
  });
});
