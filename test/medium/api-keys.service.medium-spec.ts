import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/common/crypto/secret-token';
import { ApiKeysService } from '../../src/modules/api-keys/api-keys.service';
import { insertApiKey } from '../factories/api-keys';
import { insertUser } from '../factories/users';
import { apiKeyPrincipal, domainError, userPrincipal } from '../helpers/principals';
import { useTestApp } from '../helpers/test-app';

const GRACE_SECONDS = 3600;
const MAX_KEYS = 3;

/** Medium tier: the real ApiKeysService and repository on this file's database, called without HTTP. */
describe('ApiKeysService (medium)', () => {
  const ctx = useTestApp({ env: { API_KEY_ROTATION_GRACE: String(GRACE_SECONDS), API_KEYS_MAX_PER_USER: String(MAX_KEYS) } });
  const service = () => ctx.t.app.get(ApiKeysService);
  const keyRow = async (id: string) => (await ctx.db.query('SELECT * FROM api_keys WHERE id = $1', [id])).rows[0];
  const keysOf = async (ownerId: string) => (await ctx.db.query('SELECT id, name, revoked_at FROM api_keys WHERE owner_id = $1 ORDER BY id', [ownerId])).rows;

  it('create stores only the hash and display parts, with the login that created it as parent', async () => {
    const owner = await insertUser(ctx.db);
    const created = await service().create(userPrincipal(owner, 'rtk_family_1'), { name: 'ci', scope: 'read-only', environment: 'test' });

    const row = await keyRow(created.id);
    expect(row).toMatchObject({
      owner_id: owner.id,
      name: 'ci',
      scope: 'read-only',
      environment: 'test',
      key_hash: sha256(created.key),
      parent_session_id: 'rtk_family_1',
      parent_key_id: null,
    });
    expect(created.key.startsWith(row.prefix)).toBe(true);
    expect(created.key.endsWith(row.last4)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(created.key);
  });

  it('caps the keys an owner holds, also under parallel creates; a revoked key frees its place', async () => {
    const owner = await insertUser(ctx.db);
    const principal = userPrincipal(owner);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => service().create(principal, { name: `k${i}`, scope: 'read-only', environment: 'live' })),
    );

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(MAX_KEYS);
    for (const refused of results.filter((result) => result.status === 'rejected')) expect(refused.reason).toMatchObject({ code: 'API_KEY_LIMIT_REACHED' });
    const held = await keysOf(owner.id);
    expect(held).toHaveLength(MAX_KEYS);

    await service().revoke(principal, held[0].id);
    await service().create(principal, { name: 'after-revoke', scope: 'read-only', environment: 'live' });
    expect((await keysOf(owner.id)).filter((key) => !key.revoked_at)).toHaveLength(MAX_KEYS);
  });

  it('rotate: a copy under a new secret, the old key in grace; rotating the old one again is a conflict that writes nothing', async () => {
    const owner = await insertUser(ctx.db);
    const principal = userPrincipal(owner);
    const old = await insertApiKey(ctx.db, { ownerId: owner.id, name: 'deploy', scope: 'read-write', parentSessionId: 'rtk_first_login' });

    const rotated = await service().rotate(principal, old.id);
    const fresh = await keyRow(rotated.id);
    expect(fresh).toMatchObject({
      owner_id: owner.id,
      name: 'deploy',
      scope: 'read-write',
      environment: 'live',
      parent_session_id: 'rtk_first_login',
      key_hash: sha256(rotated.key),
    });
    const before = await keyRow(old.id);
    expect(before.replaced_by).toBe(rotated.id);
    expect(Math.abs(before.grace_ends_at.getTime() - (Date.now() + GRACE_SECONDS * 1000))).toBeLessThan(60_000);

    expect(await domainError(service().rotate(principal, old.id))).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect(await keysOf(owner.id)).toHaveLength(2);
    expect(await keyRow(old.id)).toEqual(before);
  });

  it("rotating the replacement ends its predecessor's grace at once: at most two keys of a lineage work", async () => {
    const owner = await insertUser(ctx.db);
    const principal = userPrincipal(owner);
    const first = await insertApiKey(ctx.db, { ownerId: owner.id });
    const second = await service().rotate(principal, first.id);
    const third = await service().rotate(principal, second.id);

    expect((await keyRow(first.id)).grace_ends_at.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await keyRow(second.id)).toMatchObject({ replaced_by: third.id });
    expect((await keyRow(second.id)).grace_ends_at.getTime()).toBeGreaterThan(Date.now());
  });

  it('revoke takes the key, the key it replaced and every key they created, but not its replacement or a sibling', async () => {
    const owner = await insertUser(ctx.db);
    const principal = userPrincipal(owner);
    const root = await insertApiKey(ctx.db, { ownerId: owner.id, scope: 'admin' });
    const child = await insertApiKey(ctx.db, { ownerId: owner.id, parentKeyId: root.id });
    // Rotated while the owner is under the cap (the key in grace holds a place); the rest inserted as rows.
    const replacement = await service().rotate(principal, child.id);
    const grandchild = await insertApiKey(ctx.db, { ownerId: owner.id, parentKeyId: child.id });
    const sibling = await insertApiKey(ctx.db, { ownerId: owner.id });

    await service().revoke(principal, replacement.id);
    const revoked = async (id: string) => (await keyRow(id)).revoked_at !== null;
    expect([await revoked(replacement.id), await revoked(child.id), await revoked(grandchild.id)]).toEqual([true, true, true]);
    expect([await revoked(root.id), await revoked(sibling.id)]).toEqual([false, false]);
  });

  it('refuses, writing nothing: a non-admin key managing keys, a USER minting an admin key, an acting key already rotated away', async () => {
    const user = await insertUser(ctx.db);
    const admin = await insertUser(ctx.db, { role: 'ADMIN' });
    const readWrite = await insertApiKey(ctx.db, { ownerId: user.id, scope: 'read-write' });
    const supersededAdminKey = await insertApiKey(ctx.db, { ownerId: admin.id, scope: 'admin', replacedBy: 'key_01jh8x2v3kf6qz9w0c4m5t7r8y' });
    const body = { name: 'x', scope: 'read-only', environment: 'live' } as const;

    expect(await domainError(service().create(apiKeyPrincipal(user, readWrite), body))).toMatchObject({ code: 'INSUFFICIENT_SCOPE', status: 403 });
    expect(await domainError(service().create(userPrincipal(user), { ...body, scope: 'admin' }))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(await domainError(service().create(apiKeyPrincipal(admin, supersededAdminKey), body))).toMatchObject({ code: 'API_KEY_SUPERSEDED' });
    expect(await keysOf(user.id)).toHaveLength(1);
    expect(await keysOf(admin.id)).toHaveLength(1);
  });

  it("a USER lists only their own keys; an ADMIN narrows to one owner's", async () => {
    const [a, b] = [await insertUser(ctx.db), await insertUser(ctx.db)];
    const admin = await insertUser(ctx.db, { role: 'ADMIN' });
    const ofA = await insertApiKey(ctx.db, { ownerId: a.id });
    const ofB = await insertApiKey(ctx.db, { ownerId: b.id });

    expect((await service().list(userPrincipal(a), { limit: 50 })).items.map((key) => key.id)).toEqual([ofA.id]);
    expect((await service().list(userPrincipal(admin), { limit: 50, ownerId: b.id })).items.map((key) => key.id)).toEqual([ofB.id]);
    expect(await domainError(service().get(userPrincipal(a), ofB.id))).toMatchObject({ code: 'NOT_FOUND' });
  });
});
