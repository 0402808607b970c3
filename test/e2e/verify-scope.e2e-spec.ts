import { beforeAll, describe, expect, it } from 'vitest';
import { insertApiKey } from '../factories/api-keys';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { subscriber, updateSubscription } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

/** Issue 19: a least-privilege key for access checks. */
describe('API keys with the verify scope', () => {
  const ctx = useTestApp();
  let admin: Awaited<ReturnType<typeof registerAdmin>>;
  let customerKey: string;
  beforeAll(async () => {
    admin = await registerAdmin(ctx.t.app, ctx.db);
    const customer = await subscriber(ctx.t.app, ctx.db);
    expect(
      (await updateSubscription(ctx.t.app, admin.accessToken, { userId: customer.user.id, subscriberId: customer.accountId, planName: 'TRIAL' })).statusCode,
    ).toBe(200);
    customerKey = (await insertApiKey(ctx.db, { ownerId: customer.user.id })).key;
  });

  const call = callerFor(ctx);
  const verify = (bearer: string) => call('POST', '/v1/access/verify', bearer, { key: customerKey, apiVersion: 'v1', endpoint: 'orders.create' });
  const createKey = (bearer: string, scope: string) => call('POST', '/v1/api-keys', bearer, { name: 'vendor API', scope });

  it('an ADMIN creates one; it checks keys, and the answer is counted against the customer', async () => {
    const created = await createKey(admin.accessToken, 'verify');
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ scope: 'verify', ownerId: admin.user.id });
    const answer = await verify(created.json().key);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ allowed: true, code: 'ALLOWED', plan: 'TRIAL', quota: { limit: 5 } });
    const row = await ctx.db.query('SELECT scope FROM api_keys WHERE id = $1', [created.json().id]);
    expect(row.rows).toEqual([{ scope: 'verify' }]);
  });

  it("a USER may not create one (403 FORBIDDEN, nothing written), nor may an ADMIN's read-write key", async () => {
    const user = await registerAndLogin(ctx.t.app);
    const refused = await createKey(user.accessToken, 'verify');
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json().code).toBe('FORBIDDEN');
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM api_keys WHERE owner_id = $1', [user.user.id])).rows[0].n).toBe(0);
    const readWrite = (await insertApiKey(ctx.db, { ownerId: admin.user.id, scope: 'read-write' })).key;
    expect((await createKey(readWrite, 'verify')).json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', scope: 'read-write', required: ['admin'] });
  });

  it('does nothing else: every other route refuses it with INSUFFICIENT_SCOPE naming its scope and the ones needed', async () => {
    const key = (await insertApiKey(ctx.db, { ownerId: admin.user.id, scope: 'verify' })).key;
    const me = await call('GET', '/v1/users/me', key);
    expect(me.statusCode).toBe(403);
    expect(me.json()).toMatchObject({
      code: 'INSUFFICIENT_SCOPE',
      scope: 'verify',
      required: ['read-only', 'read-write', 'admin'],
      detail: 'This API key’s scope (verify) does not allow this request; it needs a read-only, read-write, or admin key.',
    });
    expect((await createKey(key, 'admin')).json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', scope: 'verify', required: ['read-write', 'admin'] });
    expect((await call('GET', '/v1/users', key)).json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required: ['admin'] });
    expect((await ctx.db.query("SELECT count(*)::int AS n FROM api_keys WHERE owner_id = $1 AND scope = 'admin'", [admin.user.id])).rows[0].n).toBe(0);
  });

  it("a read-write key on verify is told which scopes it needs; an ADMIN's admin key keeps working", async () => {
    const readWrite = (await insertApiKey(ctx.db, { ownerId: admin.user.id, scope: 'read-write' })).key;
    const refused = await verify(readWrite);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      code: 'INSUFFICIENT_SCOPE',
      scope: 'read-write',
      required: ['verify', 'admin'],
      detail: 'This API key’s scope (read-write) does not allow this request; it needs a verify or admin key.',
    });
    // In the owner's language, the list joined as the language joins alternatives.
    const turkishAdmin = await registerAdmin(ctx.t.app, ctx.db, { language: 'tr' });
    const turkish = await verify((await insertApiKey(ctx.db, { ownerId: turkishAdmin.user.id, scope: 'read-write' })).key);
    expect(turkish.json().detail).toBe('Bu API anahtarının kapsamı (read-write) bu isteğe izin vermiyor; verify veya admin kapsamlı bir anahtar gerekir.');
    const adminKey = (await insertApiKey(ctx.db, { ownerId: admin.user.id, scope: 'admin' })).key;
    expect((await verify(adminKey)).json()).toMatchObject({ allowed: true });
  });

  it("a demoted ADMIN's verify key is refused (403 FORBIDDEN): a key never exceeds its owner", async () => {
    const former = await registerAdmin(ctx.t.app, ctx.db);
    const key = (await insertApiKey(ctx.db, { ownerId: former.user.id, scope: 'verify' })).key;
    await ctx.db.query("UPDATE users SET role = 'USER' WHERE id = $1", [former.user.id]);
    expect((await verify(key)).json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('rotation keeps the scope: the new key is a verify key that checks keys and does nothing else', async () => {
    const created = (await createKey(admin.accessToken, 'verify')).json();
    const rotated = await call('POST', `/v1/api-keys/${created.id}/rotate`, admin.accessToken);
    expect(rotated.statusCode).toBe(201);
    expect(rotated.json()).toMatchObject({ scope: 'verify' });
    expect((await verify(rotated.json().key)).json()).toMatchObject({ allowed: true });
    expect((await call('GET', '/v1/api-keys', rotated.json().key)).json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', scope: 'verify' });
  });
});
