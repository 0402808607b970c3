import { describe, expect, it } from 'vitest';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

/** Issue 8 #1: who may manage keys, what each key was created by, and what revoking one ends. */
describe('API key management by keys, and key lineage', () => {
  const ctx = useTestApp();

  const call = callerFor(ctx);

  async function createKey(bearer: string, body: Record<string, unknown>) {
    const response = await call('POST', '/v1/api-keys', bearer, body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: string; key: string; parentKeyId: string | null }>();
  }

  async function rotate(bearer: string, id: string) {
    const response = await call('POST', `/v1/api-keys/${id}/rotate`, bearer);
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: string; key: string }>();
  }

  const keysOf = async (ownerId: string) =>
    (await ctx.db.query('SELECT id, revoked_at, replaced_by, parent_key_id FROM api_keys WHERE owner_id = $1 ORDER BY id', [ownerId])).rows;

  it('issue 8 #1: a rotated admin key, in its grace period, cannot create, rotate or revoke keys, and nothing is written', async () => {
    const root = await registerAdmin(ctx.t.app, ctx.db);
    const k1 = await createKey(root.accessToken, { name: 'ops', scope: 'admin' });
    const k2 = await rotate(root.accessToken, k1.id);
    expect((await call('GET', '/v1/users/me', k1.key)).statusCode).toBe(200);
    const before = await keysOf(root.user.id);
    expect(before).toHaveLength(2);

    const attempts = [
      await call('POST', '/v1/api-keys', k1.key, { name: 'forever', scope: 'admin' }),
      await call('POST', `/v1/api-keys/${k2.id}/rotate`, k1.key),
      await call('DELETE', `/v1/api-keys/${k2.id}`, k1.key),
    ];
    for (const response of attempts) {
      expect(response.statusCode, response.body).toBe(403);
      expect(response.json().code).toBe('API_KEY_SUPERSEDED');
      expect(response.body).not.toContain('"key"');
    }
    expect(await keysOf(root.user.id)).toEqual(before);
    expect((await call('GET', '/v1/users/me', k2.key)).statusCode).toBe(200);
  });

  it('issue 8 #1: a read-write key cannot create, rotate or revoke keys; an admin key of an ADMIN can, and is recorded as the parent', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const readWrite = await createKey(owner.accessToken, { name: 'rw', scope: 'read-write' });
    for (const [method, url, body] of [
      ['POST', '/v1/api-keys', { name: 'minted', scope: 'read-write' }],
      ['POST', `/v1/api-keys/${readWrite.id}/rotate`, undefined],
      ['DELETE', `/v1/api-keys/${readWrite.id}`, undefined],
    ] as const) {
      const response = await call(method, url, readWrite.key, body);
      expect(response.statusCode, url).toBe(403);
      expect(response.json().code).toBe('INSUFFICIENT_SCOPE');
    }
    expect(await keysOf(owner.user.id)).toEqual([{ id: readWrite.id, revoked_at: null, replaced_by: null, parent_key_id: null }]);

    const root = await registerAdmin(ctx.t.app, ctx.db);
    const adminKey = await createKey(root.accessToken, { name: 'ops', scope: 'admin' });
    const child = await createKey(adminKey.key, { name: 'ci', scope: 'read-write' });
    expect(child.parentKeyId).toBe(adminKey.id);
    const { rows } = await ctx.db.query(
      `SELECT k.id, k.parent_key_id, k.parent_session_id, (SELECT family_id FROM refresh_tokens WHERE user_id = k.owner_id LIMIT 1) AS family
         FROM api_keys k WHERE k.owner_id = $1 ORDER BY k.id`,
      [root.user.id],
    );
    expect(rows).toEqual([
      { id: adminKey.id, parent_key_id: null, parent_session_id: rows[0].family, family: expect.any(String) },
      { id: child.id, parent_key_id: adminKey.id, parent_session_id: null, family: rows[0].family },
    ]);
  });

  it('issue 8 #1: revoking a key revokes, in one go, the key it replaced and everything any of them created; not unrelated keys', async () => {
    const root = await registerAdmin(ctx.t.app, ctx.db);
    const a = await createKey(root.accessToken, { name: 'a', scope: 'admin' });
    const b = await createKey(a.key, { name: 'b', scope: 'admin' });
    const c = await createKey(b.key, { name: 'c', scope: 'read-only' });
    const cRotated = await rotate(root.accessToken, c.id);
    const a2 = await rotate(root.accessToken, a.id);
    const d = await createKey(a2.key, { name: 'd', scope: 'read-only' });
    const unrelated = await createKey(root.accessToken, { name: 'other', scope: 'read-only' });
    const all = [a, b, c, cRotated, a2, d, unrelated];
    // Every key is now in this instance's cache: revocation must drop each one.
    for (const key of all) expect((await call('GET', '/v1/users/me', key.key)).statusCode).toBe(200);

    expect((await call('DELETE', `/v1/api-keys/${a2.id}`, root.accessToken)).statusCode).toBe(204);

    const { rows } = await ctx.db.query('SELECT id, parent_key_id, revoked_at IS NOT NULL AS revoked FROM api_keys WHERE owner_id = $1', [root.user.id]);
    const revoked = new Map(rows.map((row: { id: string; revoked: boolean }) => [row.id, row.revoked]));
    expect(Object.fromEntries(all.map((key) => [key.id, revoked.get(key.id)]))).toEqual({
      [a.id]: true,
      [b.id]: true,
      [c.id]: true,
      [cRotated.id]: true,
      [a2.id]: true,
      [d.id]: true,
      [unrelated.id]: false,
    });
    // A replacement inherits its predecessor's parent.
    expect(rows.find((row: { id: string }) => row.id === cRotated.id).parent_key_id).toBe(b.id);
    for (const key of all.slice(0, -1)) {
      const response = await call('GET', '/v1/users/me', key.key);
      expect(response.statusCode, key.id).toBe(401);
      expect(response.json().code).toBe('INVALID_API_KEY');
    }
    expect((await call('GET', '/v1/users/me', unrelated.key)).statusCode).toBe(200);
  });

  it('revoking a rotated key early leaves its replacement working', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const old = await createKey(owner.accessToken, { name: 'x', scope: 'read-only' });
    const fresh = await rotate(owner.accessToken, old.id);
    expect((await call('DELETE', `/v1/api-keys/${old.id}`, owner.accessToken)).statusCode).toBe(204);
    expect((await call('GET', '/v1/users/me', old.key)).statusCode).toBe(401);
    expect((await call('GET', '/v1/users/me', fresh.key)).statusCode).toBe(200);
  });

  it('issue 8 #1: rotating K2 to K3 ends the grace period of K1 at once (401 API_KEY_EXPIRED); K2 keeps its own', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const k1 = await createKey(owner.accessToken, { name: 'k', scope: 'read-only' });
    const k2 = await rotate(owner.accessToken, k1.id);
    expect((await call('GET', '/v1/users/me', k1.key)).statusCode).toBe(200);
    const k3 = await rotate(owner.accessToken, k2.id);

    const first = await call('GET', '/v1/users/me', k1.key);
    expect(first.statusCode).toBe(401);
    expect(first.json().code).toBe('API_KEY_EXPIRED');
    expect((await call('GET', '/v1/users/me', k2.key)).statusCode).toBe(200);
    expect((await call('GET', '/v1/users/me', k3.key)).statusCode).toBe(200);
    const { rows } = await ctx.db.query('SELECT id, grace_ends_at <= now() AS ended FROM api_keys WHERE id = ANY($1) ORDER BY id', [[k1.id, k2.id]]);
    expect(rows).toEqual([
      { id: k1.id, ended: true },
      { id: k2.id, ended: false },
    ]);
  });
});
