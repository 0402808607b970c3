import { describe, expect, it } from 'vitest';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

/** Issue 19 (medium 4): a user cannot register endpoints without bound (WEBHOOK_ENDPOINTS_MAX_PER_USER=3 here). */
describe('webhook endpoints per user (WEBHOOK_ENDPOINTS_MAX_PER_USER=3)', () => {
  // The six creates queue on the lock for as long as the line-up takes on a busy machine: no lock timeout then.
  const ctx = useTestApp({ env: { WEBHOOK_ENDPOINTS_MAX_PER_USER: '3', DATABASE_LOCK_TIMEOUT_MS: '60000', DATABASE_STATEMENT_TIMEOUT_MS: '60000' } });

  const call = callerFor(ctx);
  const create = (bearer: string, body: Record<string, unknown> = {}) =>
    call('POST', '/v1/webhooks/endpoints', bearer, { url: 'https://hooks.example.com/gatehouse', events: ['*'], ...body });
  const held = async (ownerId: string) => (await ctx.db.query('SELECT count(*)::int AS n FROM webhook_endpoints WHERE owner_id = $1', [ownerId])).rows[0].n;

  it('issue 19 (medium 4): parallel creates at the cap: exactly one more endpoint is made, the others get 409 WEBHOOK_ENDPOINT_LIMIT_REACHED', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    for (let i = 0; i < 2; i++) expect((await create(owner.accessToken)).statusCode).toBe(201);
    // Lines the six up: each may read the count, but none may insert before all of them wait.
    await ctx.db.query('BEGIN');
    await ctx.db.query('LOCK TABLE webhook_endpoints IN EXCLUSIVE MODE');
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
    expect(responses.map((response) => response.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ status: 409, code: 'WEBHOOK_ENDPOINT_LIMIT_REACHED' });
      expect(response.body).not.toMatch(/whsec_/);
    }
    expect(await held(owner.user.id)).toBe(3);
    // Another user has a cap of their own.
    const other = await registerAndLogin(ctx.t.app);
    expect((await create(other.accessToken)).statusCode).toBe(201);
  });

  it('a disabled endpoint still counts; deleting one makes room; an ADMIN is not limited', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create(owner.accessToken)).json<{ id: string }>().id);
    expect((await call('PATCH', `/v1/webhooks/endpoints/${ids[0]}`, owner.accessToken, { enabled: false })).statusCode).toBe(200);
    expect((await create(owner.accessToken)).statusCode).toBe(409);
    expect((await call('DELETE', `/v1/webhooks/endpoints/${ids[1]}`, owner.accessToken)).statusCode).toBe(204);
    expect((await create(owner.accessToken)).statusCode).toBe(201);
    expect(await held(owner.user.id)).toBe(3);

    const admin = await registerAdmin(ctx.t.app, ctx.db);
    for (let i = 0; i < 5; i++) expect((await create(admin.accessToken, { scope: i === 0 ? 'all' : 'own' })).statusCode).toBe(201);
    expect(await held(admin.user.id)).toBe(5);
  });
});
