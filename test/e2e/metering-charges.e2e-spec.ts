import type { LightMyRequestResponse as Response } from 'fastify';
import { Client } from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { insertApiKey } from '../factories/api-keys';
import { registerAndLogin } from '../factories/users';
import { setClock, subscriber, updateSubscription } from '../helpers/subscriptions';
import { useAdmin } from '../helpers/signed-in';
import { useTestApp } from '../helpers/test-app';

const GET_ALL = '/api/integration/products/getAll';

/** Issue 19, low 5: only a call that passed validation and is not a replay is counted. */
describe('metering counts only new, valid calls', () => {
  const ctx = useTestApp();
  const admin = useAdmin(ctx);
  afterEach(() => vi.restoreAllMocks());

  const request = (method: 'GET' | 'POST', url: string, bearer: string, payload?: unknown, idempotencyKey?: string) =>
    ctx.t.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    });
  const used = async (userId: string) =>
    (await ctx.db.query('SELECT endpoint, used FROM quota_counters WHERE user_id = $1 ORDER BY endpoint', [userId])).rows as {
      endpoint: string;
      used: number;
    }[];
  const quota = (response: Response) => ({ limit: response.headers['x-quota-limit'], remaining: response.headers['x-quota-remaining'] });

  async function onTrial() {
    const user = await subscriber(ctx.t.app, ctx.db);
    expect(
      (await updateSubscription(ctx.t.app, admin().accessToken, { userId: user.user.id, subscriberId: user.accountId, planName: 'TRIAL' })).statusCode,
    ).toBe(200);
    return { ...user, key: (await insertApiKey(ctx.db, { ownerId: user.user.id })).key };
  }

  it('5 getAll calls with a typo in the query are refused and use none of the TRIAL: the 5 right ones that follow all pass', async () => {
    setClock(ctx.t.app, new Date('2026-12-03T12:00:00.000Z'));
    const user = await onTrial();
    for (let i = 0; i < 5; i++) {
      const typo = await request('GET', `${GET_ALL}?limt=5`, user.key);
      // getAll speaks the integration format: a validation failure is its 400.
      expect(typo.statusCode).toBe(400);
      expect(typo.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(typo.headers['x-quota-remaining']).toBeUndefined();
    }
    expect(await used(user.user.id)).toEqual([]);
    for (let i = 1; i <= 5; i++) expect(quota(await request('GET', GET_ALL, user.key))).toEqual({ limit: '5', remaining: String(5 - i) });
    expect((await request('GET', GET_ALL, user.key)).json()).toMatchObject({ code: 'QUOTA_EXCEEDED' });
  });

  it("on the free tier, bodies refused by validation (422) or a malformed Idempotency-Key (400) use none of the day's cap", async () => {
    const free = await registerAndLogin(ctx.t.app);
    for (let i = 0; i < 5; i++) {
      expect((await request('POST', '/v1/api-keys', free.accessToken, { nmae: 'CI', scope: 'read-only' })).statusCode).toBe(422);
    }
    expect((await request('POST', '/v1/api-keys', free.accessToken, { name: 'CI', scope: 'read-only' }, 'ключ')).json().code).toBe('IDEMPOTENCY_KEY_INVALID');
    expect(await used(free.user.id)).toEqual([]);
    const valid = await request('POST', '/v1/api-keys', free.accessToken, { name: 'CI', scope: 'read-only' });
    expect(valid.statusCode).toBe(201);
    expect(quota(valid)).toEqual({ limit: '1000', remaining: '999' });
    expect(await used(free.user.id)).toEqual([{ endpoint: '*', used: 1 }]);
  });

  it('a replay uses none, and shows the quota as it stands now, not as it stood when stored', async () => {
    const free = await registerAndLogin(ctx.t.app);
    const body = { name: 'CI', scope: 'read-only' };
    const first = await request('POST', '/v1/api-keys', free.accessToken, body, 'replayed-key');
    expect(first.statusCode).toBe(201);
    expect(quota(first)).toEqual({ limit: '1000', remaining: '999' });
    expect(quota(await request('GET', '/v1/api-keys', free.accessToken))).toEqual({ limit: '1000', remaining: '998' });
    for (let i = 0; i < 3; i++) {
      const replay = await request('POST', '/v1/api-keys', free.accessToken, body, 'replayed-key');
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toBe(first.body);
      expect(quota(replay)).toEqual({ limit: '1000', remaining: '998' });
    }
    expect(await used(free.user.id)).toEqual([{ endpoint: '*', used: 2 }]);
    const stored = await ctx.db.query('SELECT response_headers FROM idempotency_keys WHERE response_status = 201');
    for (const row of stored.rows) expect(Object.keys(row.response_headers)).not.toContain('x-quota-remaining');
  });

  it('a 409 IDEMPOTENCY_KEY_IN_USE uses none; the request it waited for uses one', async () => {
    const free = await registerAndLogin(ctx.t.app);
    const body = { name: 'slow', scope: 'read-only' };
    const lock = new Client({ connectionString: ctx.t.database.url });
    await lock.connect();
    let first: Promise<Response>;
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE api_keys IN SHARE MODE');
      first = request('POST', '/v1/api-keys', free.accessToken, body, 'busy-key');
      await vi.waitFor(async () => expect((await lock.query('SELECT 1 FROM idempotency_keys WHERE response_status IS NULL')).rows).toHaveLength(1));
      for (let i = 0; i < 3; i++)
        expect((await request('POST', '/v1/api-keys', free.accessToken, body, 'busy-key')).json().code).toBe('IDEMPOTENCY_KEY_IN_USE');
    } finally {
      await lock.query('COMMIT');
      await lock.end();
    }
    expect((await first).statusCode).toBe(201);
    expect(await used(free.user.id)).toEqual([{ endpoint: '*', used: 1 }]);
  });

  it('a call over quota on an idempotent route is refused before it runs, and its key is not kept: the same key works once the quota allows', async () => {
    const plans = (limits: unknown) => request('PATCH' as 'POST', '/v1/subscriptions/plans/NONE', admin().accessToken, { limits });
    expect((await plans([{ apiVersion: 'v1', endpoint: '*', maxCalls: 2 }])).statusCode).toBe(200);
    try {
      // Signed in before the clock moves: a token issued at a mocked time is judged against the real one.
      const free = await registerAndLogin(ctx.t.app);
      setClock(ctx.t.app, new Date('2026-12-03T09:00:00.000Z'));
      for (let i = 0; i < 2; i++) expect((await request('GET', '/v1/api-keys', free.accessToken)).statusCode).toBe(200);
      const body = { name: 'late', scope: 'read-only' };
      const refused = await request('POST', '/v1/api-keys', free.accessToken, body, 'next-day');
      expect(refused.json()).toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED' });
      expect((await ctx.db.query('SELECT count(*)::int AS n FROM api_keys WHERE owner_id = $1', [free.user.id])).rows[0].n).toBe(0);
      setClock(ctx.t.app, new Date('2026-12-04T09:00:00.000Z'));
      const retried = await request('POST', '/v1/api-keys', free.accessToken, body, 'next-day');
      expect(retried.statusCode).toBe(201);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      expect(quota(retried)).toEqual({ limit: '2', remaining: '1' });
    } finally {
      expect((await plans([{ apiVersion: 'v1', endpoint: '*', maxCalls: 1000 }])).statusCode).toBe(200);
    }
  });

  it('POST /v1/access/verify takes an Idempotency-Key: the same check twice counts once and answers the first decision', async () => {
    const customer = await onTrial();
    const vendorKey = (await insertApiKey(ctx.db, { ownerId: admin().user.id, scope: 'verify' })).key;
    const check = { key: customer.key, apiVersion: 'v1', endpoint: 'orders.create' };
    const first = await request('POST', '/v1/access/verify', vendorKey, check, 'req-4711');
    expect(first.json()).toMatchObject({ allowed: true, quota: { limit: 5, remaining: 4 } });
    const retry = await request('POST', '/v1/access/verify', vendorKey, check, 'req-4711');
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);
    expect(await used(customer.user.id)).toEqual([{ endpoint: '*', used: 1 }]);
    // Another request of the vendor's is another key, and counts.
    expect((await request('POST', '/v1/access/verify', vendorKey, check, 'req-4712')).json()).toMatchObject({ quota: { remaining: 3 } });
    expect(await used(customer.user.id)).toEqual([{ endpoint: '*', used: 2 }]);
  });
});
