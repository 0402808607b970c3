import { describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock';
import { registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

/** Issue 8 (low): a user cannot mint keys without bound. */
describe('API keys per user (API_KEYS_MAX_PER_USER=3)', () => {
  // The six creates queue on locks for as long as the line-up takes on a busy machine: no lock timeout then.
  const ctx = useTestApp({ env: { API_KEYS_MAX_PER_USER: '3', DATABASE_LOCK_TIMEOUT_MS: '60000', DATABASE_STATEMENT_TIMEOUT_MS: '60000' } });

  const call = callerFor(ctx);
  const create = (bearer: string, body: Record<string, unknown> = {}) => call('POST', '/v1/api-keys', bearer, { name: 'k', scope: 'read-only', ...body });
  const held = async (ownerId: string) => (await ctx.db.query('SELECT count(*)::int AS n FROM api_keys WHERE owner_id = $1', [ownerId])).rows[0].n;

  it('issue 8 (low): parallel creates at the cap: exactly one more key is created, the others get 409 API_KEY_LIMIT_REACHED', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    for (let i = 0; i < 2; i++) expect((await create(owner.accessToken)).statusCode).toBe(201);
    // Lines the six up: each may read the count, but none may insert before all of them wait.
    await ctx.db.query('BEGIN');
    await ctx.db.query('LOCK TABLE api_keys IN EXCLUSIVE MODE');
    const pending = Promise.all(Array.from({ length: 6 }, () => create(owner.accessToken)));
    try {
      for (let waited = 0; waited < 20_000; waited += 20) {
        const { rows } = await ctx.db.query(
          'SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE NOT granted AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())',
        );
        if (rows[0].n >= 6) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await ctx.db.query('COMMIT');
    }
    const responses = await pending;
    const statuses = responses.map((response) => response.statusCode).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json().code).toBe('API_KEY_LIMIT_REACHED');
    }
    expect(await held(owner.user.id)).toBe(3);
    // Another user has a cap of their own.
    const other = await registerAndLogin(ctx.t.app);
    expect((await create(other.accessToken)).statusCode).toBe(201);
  });

  it('counts only keys neither revoked nor expired; a rotated key counts through its grace, so rotation at the cap is refused (issue 19)', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    expect((await create(owner.accessToken, { expiresAt: new Date(Date.now() + 60_000).toISOString() })).statusCode).toBe(201);
    const revoked = (await create(owner.accessToken)).json();
    const kept = (await create(owner.accessToken)).json();
    expect((await create(owner.accessToken)).statusCode).toBe(409);
    const refused = await call('POST', `/v1/api-keys/${kept.id}/rotate`, owner.accessToken);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('API_KEY_LIMIT_REACHED');
    expect(await held(owner.user.id)).toBe(3);
    expect((await ctx.db.query('SELECT replaced_by, grace_ends_at FROM api_keys WHERE id = $1', [kept.id])).rows[0]).toEqual({
      replaced_by: null,
      grace_ends_at: null,
    });

    expect((await call('DELETE', `/v1/api-keys/${revoked.id}`, owner.accessToken)).statusCode).toBe(204);
    const replacement = await call('POST', `/v1/api-keys/${kept.id}/rotate`, owner.accessToken);
    expect(replacement.statusCode).toBe(201);
    // `kept`, in its grace period, still holds a place.
    expect((await create(owner.accessToken)).json().code).toBe('API_KEY_LIMIT_REACHED');
    // Rotating the replacement stops `kept` at once, which frees the place the newest key takes.
    expect((await call('POST', `/v1/api-keys/${replacement.json().id}/rotate`, owner.accessToken)).statusCode).toBe(201);
    expect((await create(owner.accessToken)).statusCode).toBe(409);

    // Revoking the replacement (in its grace) leaves the newest: `short`, the newest and one more.
    expect((await call('DELETE', `/v1/api-keys/${replacement.json().id}`, owner.accessToken)).statusCode).toBe(204);
    expect((await create(owner.accessToken)).statusCode).toBe(201);
    expect((await create(owner.accessToken)).statusCode).toBe(409);

    vi.spyOn(ctx.t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 120_000));
    try {
      // `short` has expired.
      expect((await create(owner.accessToken)).statusCode).toBe(201);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('issue 19: one place left, two rotations and two creates in parallel: exactly one gets it', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const first = (await create(owner.accessToken)).json();
    const second = (await create(owner.accessToken)).json();
    await ctx.db.query('BEGIN');
    await ctx.db.query('LOCK TABLE api_keys IN EXCLUSIVE MODE');
    const pending = Promise.all([
      call('POST', `/v1/api-keys/${first.id}/rotate`, owner.accessToken),
      call('POST', `/v1/api-keys/${second.id}/rotate`, owner.accessToken),
      create(owner.accessToken),
      create(owner.accessToken),
    ]);
    try {
      for (let waited = 0; waited < 20_000; waited += 20) {
        const { rows } = await ctx.db.query(
          'SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE NOT granted AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())',
        );
        if (rows[0].n >= 4) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await ctx.db.query('COMMIT');
    }
    const responses = await pending;
    expect(responses.map((response) => response.statusCode).sort()).toEqual([201, 409, 409, 409]);
    expect(responses.filter((r) => r.statusCode === 409).map((r) => r.json().code)).toEqual(Array(3).fill('API_KEY_LIMIT_REACHED'));
    const live = await ctx.db.query(
      'SELECT count(*)::int AS n FROM api_keys WHERE owner_id = $1 AND revoked_at IS NULL AND (grace_ends_at IS NULL OR grace_ends_at > now())',
      [owner.user.id],
    );
    expect(live.rows[0].n).toBe(3);
  });
});
