import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock';
import { ApiKeysRepository } from '../../src/modules/api-keys/api-keys.repository';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { createTestApp, useTestApp } from '../helpers/test-app';

describe('API keys', () => {
  const ctx = useTestApp();

  const call = callerFor(ctx);

  const adminSession = () => registerAdmin(ctx.t.app, ctx.db);

  async function createKey(bearer: string, body: Record<string, unknown>) {
    const response = await call('POST', '/v1/api-keys', bearer, body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: string; key: string; prefix: string; last4: string }>();
  }

  it('shows a key once, and stores only its SHA-256', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const created = await createKey(owner.accessToken, { name: 'CI', scope: 'read-write' });
    expect(created.key).toMatch(/^gate_live_[0-9A-Za-z]{32}$/);
    expect(created).toMatchObject({ name: 'CI', scope: 'read-write', environment: 'live', prefix: created.key.slice(0, 14), last4: created.key.slice(-4) });

    const fetched = await call('GET', `/v1/api-keys/${created.id}`, owner.accessToken);
    expect(fetched.json().key).toBeUndefined();
    const listed = await call('GET', '/v1/api-keys', owner.accessToken);
    expect(listed.body).not.toContain(created.key);
    expect(listed.json().items.map((item: { id: string }) => item.id)).toEqual([created.id]);

    const { rows } = await ctx.db.query('SELECT * FROM api_keys WHERE id = $1', [created.id]);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
    expect(JSON.stringify(rows[0])).not.toContain(created.key.slice(10, 30));
  });

  it('authenticates as its owner, and a test-environment key says so', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const created = await createKey(owner.accessToken, { name: 'sandbox', scope: 'read-only', environment: 'test' });
    expect(created.key).toMatch(/^gate_test_/);
    const me = await call('GET', '/v1/users/me', created.key);
    expect(me.statusCode).toBe(200);
    expect(me.json().user.id).toBe(owner.user.id);
  });

  it('enforces scopes: read-only reads only, read-write stays off ADMIN routes, only ADMINs mint admin keys', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const readOnly = await createKey(owner.accessToken, { name: 'ro', scope: 'read-only' });
    expect((await call('GET', '/v1/users/me', readOnly.key)).statusCode).toBe(200);
    const write = await call('PATCH', '/v1/users/update', readOnly.key, { firstName: 'X' });
    expect(write.statusCode).toBe(403);
    expect(write.json().code).toBe('INSUFFICIENT_SCOPE');

    const adminOwner = await adminSession();
    const readWrite = await createKey(adminOwner.accessToken, { name: 'rw', scope: 'read-write' });
    const adminRoute = await call('GET', '/v1/users', readWrite.key);
    expect(adminRoute.statusCode).toBe(403);
    expect(adminRoute.json().code).toBe('INSUFFICIENT_SCOPE');
    expect((await call('PATCH', '/v1/users/update', readWrite.key, { firstName: 'Y' })).statusCode).toBe(200);

    const denied = await call('POST', '/v1/api-keys', owner.accessToken, { name: 'root', scope: 'admin' });
    expect(denied.statusCode).toBe(403);
    const adminKey = await createKey(adminOwner.accessToken, { name: 'root', scope: 'admin' });
    expect((await call('GET', '/v1/users', adminKey.key)).statusCode).toBe(200);
  });

  it("a read-write key of an ADMIN cannot rotate or revoke its owner's admin key", async () => {
    const root = await adminSession();
    const adminKey = await createKey(root.accessToken, { name: 'root', scope: 'admin' });
    const readWrite = await createKey(root.accessToken, { name: 'rw', scope: 'read-write' });
    const rotate = await call('POST', `/v1/api-keys/${adminKey.id}/rotate`, readWrite.key);
    expect(rotate.statusCode).toBe(403);
    expect(rotate.body).not.toContain('"key"');
    expect((await call('DELETE', `/v1/api-keys/${adminKey.id}`, readWrite.key)).statusCode).toBe(403);
    expect((await call('GET', '/v1/users', adminKey.key)).statusCode).toBe(200);
    const self = await call('POST', `/v1/api-keys/${readWrite.id}/rotate`, readWrite.key);
    expect(self.statusCode).toBe(403);
    expect(self.json().code).toBe('INSUFFICIENT_SCOPE');
  });

  it('refuses dates Postgres cannot store with 422, not 500', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    for (const expiresAt of ['9999-12-31T23:59:59-23:59', '0000-01-01T00:00:00Z']) {
      const response = await call('POST', '/v1/api-keys', owner.accessToken, { name: 'far', scope: 'read-only', expiresAt });
      expect(response.statusCode, expiresAt).toBe(422);
    }
  });

  it('an admin key loses its powers at once when its owner is demoted, and stops when the owner is suspended', async () => {
    const root = await adminSession();
    const victim = await adminSession();
    const key = await createKey(victim.accessToken, { name: 'ops', scope: 'admin' });
    expect((await call('GET', '/v1/users', key.key)).statusCode).toBe(200);
    expect((await call('PATCH', `/v1/users/${victim.user.id}/role`, root.accessToken, { role: 'USER' })).statusCode).toBe(200);
    expect((await call('GET', '/v1/users', key.key)).statusCode).toBe(403);
    expect((await call('PATCH', `/v1/users/${victim.user.id}/status`, root.accessToken, { status: 'SUSPENDED' })).statusCode).toBe(200);
    const suspended = await call('GET', '/v1/users/me', key.key);
    expect(suspended.statusCode).toBe(403);
    expect(suspended.json().code).toBe('ACCOUNT_SUSPENDED');
  });

  it("hides other users' keys (404), while an ADMIN sees and filters everyone's", async () => {
    const a = await registerAndLogin(ctx.t.app);
    const b = await registerAndLogin(ctx.t.app);
    const bKey = await createKey(b.accessToken, { name: 'b', scope: 'read-only' });
    for (const [method, url] of [
      ['GET', `/v1/api-keys/${bKey.id}`],
      ['POST', `/v1/api-keys/${bKey.id}/rotate`],
      ['DELETE', `/v1/api-keys/${bKey.id}`],
    ] as const) {
      const response = await call(method, url, a.accessToken);
      expect(response.statusCode, url).toBe(404);
    }
    expect((await call('GET', `/v1/api-keys?ownerId=${b.user.id}`, a.accessToken)).json().items).toEqual([]);
    expect((await call('GET', '/v1/users/me', bKey.key)).statusCode).toBe(200);

    const root = await adminSession();
    const all = await call('GET', `/v1/api-keys?ownerId=${b.user.id}`, root.accessToken);
    expect(all.json().items.map((item: { id: string }) => item.id)).toEqual([bKey.id]);
    expect((await call('GET', `/v1/api-keys/${bKey.id}`, root.accessToken)).statusCode).toBe(200);
  });

  it('rotation: the old key works at +23 h 59 min and fails at +24 h 1 min; the new one works throughout', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const old = await createKey(owner.accessToken, { name: 'rotating', scope: 'read-only' });
    const rotated = await call('POST', `/v1/api-keys/${old.id}/rotate`, owner.accessToken);
    expect(rotated.statusCode).toBe(201);
    const fresh = rotated.json<{ id: string; key: string }>();
    expect(fresh.key).not.toBe(old.key);
    expect((await call('POST', `/v1/api-keys/${old.id}/rotate`, owner.accessToken)).statusCode).toBe(409);

    const clock = ctx.t.app.get(Clock);
    const start = Date.now();
    const at = (ms: number) => vi.spyOn(clock, 'now').mockReturnValue(new Date(start + ms));
    try {
      at(23 * 3600_000 + 59 * 60_000);
      expect((await call('GET', '/v1/users/me', old.key)).statusCode).toBe(200);
      expect((await call('GET', '/v1/users/me', fresh.key)).statusCode).toBe(200);
      at(24 * 3600_000 + 60_000);
      const expired = await call('GET', '/v1/users/me', old.key);
      expect(expired.statusCode).toBe(401);
      expect(expired.json().code).toBe('API_KEY_EXPIRED');
      expect((await call('GET', '/v1/users/me', fresh.key)).statusCode).toBe(200);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('a revoked key fails on the very next request', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const key = await createKey(owner.accessToken, { name: 'temp', scope: 'read-only' });
    expect((await call('GET', '/v1/users/me', key.key)).statusCode).toBe(200);
    expect((await call('DELETE', `/v1/api-keys/${key.id}`, owner.accessToken)).statusCode).toBe(204);
    const after = await call('GET', '/v1/users/me', key.key);
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('INVALID_API_KEY');
  });

  it('an expired key gets 401 API_KEY_EXPIRED, and a past expiry is refused at creation', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const key = await createKey(owner.accessToken, { name: 'short', scope: 'read-only', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const clock = ctx.t.app.get(Clock);
    vi.spyOn(clock, 'now').mockReturnValue(new Date(Date.now() + 120_000));
    try {
      const response = await call('GET', '/v1/users/me', key.key);
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('API_KEY_EXPIRED');
    } finally {
      vi.restoreAllMocks();
    }
    const past = await call('POST', '/v1/api-keys', owner.accessToken, { name: 'x', scope: 'read-only', expiresAt: '2020-01-01T00:00:00Z' });
    expect(past.statusCode).toBe(422);
    expect(past.json().errors[0].field).toBe('expiresAt');
  });

  it('verifies a key from the in-process cache: one lookup for many requests', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const key = await createKey(owner.accessToken, { name: 'hot', scope: 'read-only' });
    const lookups = vi.spyOn(ctx.t.app.get(ApiKeysRepository), 'findByHash');
    try {
      for (let i = 0; i < 10; i++) expect((await call('GET', '/v1/users/me', key.key)).statusCode).toBe(200);
      expect(lookups).toHaveBeenCalledTimes(1);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('a revocation reaches another instance within the 5 s cache lifetime', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const key = await createKey(owner.accessToken, { name: 'shared', scope: 'read-only' });
    const other = await createTestApp({ database: ctx.t.database });
    try {
      const viaOther = () => other.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${key.key}` } });
      // The other instance caches the key now; from here its view may be at most 5 s old.
      const cachedAt = Date.now();
      expect((await viaOther()).statusCode).toBe(200);
      expect((await call('DELETE', `/v1/api-keys/${key.id}`, owner.accessToken)).statusCode).toBe(204);
      let status = 200;
      while (status === 200 && Date.now() - cachedAt < 8_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await viaOther()).statusCode;
      }
      expect(status).toBe(401);
      // 5 s of cache lifetime, plus the polling step and a loaded machine's scheduling.
      expect(Date.now() - cachedAt).toBeLessThanOrEqual(6_000);
    } finally {
      await other.close();
    }
  });

  it('a key with one mistyped character gets 401 without a database lookup', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const key = await createKey(owner.accessToken, { name: 'typo', scope: 'read-only' });
    const index = 15;
    const typo = `${key.key.slice(0, index)}${key.key[index] === 'a' ? 'b' : 'a'}${key.key.slice(index + 1)}`;
    const lookups = vi.spyOn(ctx.t.app.get(ApiKeysRepository), 'findByHash');
    try {
      const response = await call('GET', '/v1/users/me', typo);
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('INVALID_API_KEY');
      expect(lookups).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });
});
