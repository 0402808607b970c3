import { describe, expect, it, vi } from 'vitest';
import { RefreshTokensRepository } from '../../src/modules/auth/refresh-tokens.repository';
import { login, registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { createTestApp, useTestApp } from '../helpers/test-app';

const json = { 'content-type': 'application/json' };

describe('sessions: access tokens follow the current role, status and login (finding #2)', () => {
  const ctx = useTestApp();

  const call = callerFor(ctx);
  const me = (bearer: string) => call('GET', '/v1/users/me', bearer);
  const liveTokens = async (userId: string) =>
    (await ctx.db.query('SELECT count(*)::int AS live FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [userId])).rows[0].live;

  it('#2: a demoted ADMIN cannot undo it with the access token it still holds; the demotion ends its sessions', async () => {
    const root = await registerAdmin(ctx.t.app, ctx.db);
    const demoted = await registerAdmin(ctx.t.app, ctx.db);
    // Its rights are cached on this instance now, as ADMIN.
    expect((await call('GET', '/v1/users?limit=1', demoted.accessToken)).statusCode).toBe(200);

    const demotion = await call('PATCH', `/v1/users/${demoted.user.id}/role`, root.accessToken, { role: 'USER' });
    expect(demotion.statusCode).toBe(200);
    expect(await liveTokens(demoted.user.id)).toBe(0);

    const undo = await call('PATCH', `/v1/users/${demoted.user.id}/role`, demoted.accessToken, { role: 'ADMIN' });
    expect(undo.statusCode).toBe(401);
    expect(undo.json().code).toBe('SESSION_REVOKED');
    const refresh = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      headers: json,
      payload: JSON.stringify({ refreshToken: demoted.refreshToken }),
    });
    expect(refresh.statusCode).toBe(401);
    const { rows } = await ctx.db.query('SELECT role FROM users WHERE id = $1', [demoted.user.id]);
    expect(rows[0].role).toBe('USER');
  });

  it('#2: @Roles reads the current role, not the one in the token: 403 on an ADMIN route once the role is gone', async () => {
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    // Changed behind the API's back: no session is revoked and no event fires, so only the current role decides.
    await ctx.db.query("UPDATE users SET role = 'USER' WHERE id = $1", [admin.user.id]);
    const response = await call('GET', '/v1/users?limit=1', admin.accessToken);
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('FORBIDDEN');
    expect((await me(admin.accessToken)).json().user.role).toBe('USER');
  });

  it("#2: a suspended user's access token is refused at once with 403 ACCOUNT_SUSPENDED, and stays ended after reinstatement", async () => {
    const root = await registerAdmin(ctx.t.app, ctx.db);
    const user = await registerAndLogin(ctx.t.app);
    expect((await me(user.accessToken)).statusCode).toBe(200);

    expect((await call('PATCH', `/v1/users/${user.user.id}/status`, root.accessToken, { status: 'SUSPENDED' })).statusCode).toBe(200);
    const suspended = await me(user.accessToken);
    expect(suspended.statusCode).toBe(403);
    expect(suspended.json().code).toBe('ACCOUNT_SUSPENDED');
    const write = await call('PATCH', '/v1/users/update', user.accessToken, { firstName: 'Mallory' });
    expect(write.statusCode).toBe(403);

    expect((await call('PATCH', `/v1/users/${user.user.id}/status`, root.accessToken, { status: 'ACTIVE' })).statusCode).toBe(200);
    const reinstated = await me(user.accessToken);
    expect(reinstated.statusCode).toBe(401);
    expect(reinstated.json().code).toBe('SESSION_REVOKED');
    const { rows } = await ctx.db.query('SELECT first_name FROM users WHERE id = $1', [user.user.id]);
    expect(rows[0].first_name).toBe('Ada');
  });

  it('#2: after logout the access token of that login is refused; another login of the same user goes on', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const other = await login(ctx.t.app, session.input.email);
    expect((await me(session.accessToken)).statusCode).toBe(200);

    expect((await call('POST', '/v1/auth/logout', session.accessToken)).statusCode).toBe(204);
    const after = await me(session.accessToken);
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('SESSION_REVOKED');
    expect((await me(other.accessToken)).statusCode).toBe(200);
  });

  it('#2: refresh-token reuse ends the access tokens of that login too', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const refresh = (refreshToken: string) =>
      ctx.t.app.inject({ method: 'POST', url: '/v1/auth/refresh', headers: json, payload: JSON.stringify({ refreshToken }) });
    const rotated = await refresh(session.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const next = rotated.json().accessToken.token as string;
    expect((await me(next)).statusCode).toBe(200);
    // The old access token belongs to the same login and keeps working while that login lives.
    expect((await me(session.accessToken)).statusCode).toBe(200);

    // As if the rotation were an hour old: a replay now is reuse, not a second tab.
    await ctx.db.query("UPDATE refresh_tokens SET revoked_at = now() - interval '1 hour' WHERE user_id = $1 AND replaced_by IS NOT NULL", [session.user.id]);
    expect((await refresh(session.refreshToken)).json().code).toBe('REFRESH_TOKEN_REUSED');
    expect((await me(next)).json().code).toBe('SESSION_REVOKED');
  });

  it('issue 19: refresh-token reuse also revokes the API keys that login created (and what they created), not the keys of other logins', async () => {
    const session = await registerAdmin(ctx.t.app, ctx.db);
    const other = await login(ctx.t.app, session.input.email, session.input.password);
    const createKey = async (bearer: string, scope: string) => {
      const response = await call('POST', '/v1/api-keys', bearer, { name: 'from a login', scope });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<{ id: string; key: string }>();
    };
    const fromSession = await createKey(session.accessToken, 'admin');
    const grandchild = await createKey(fromSession.key, 'read-write');
    const fromOther = await createKey(other.accessToken, 'read-write');
    // Cached as valid on this instance before the reuse.
    for (const key of [fromSession, grandchild, fromOther]) expect((await me(key.key)).statusCode).toBe(200);

    const refresh = (refreshToken: string) =>
      ctx.t.app.inject({ method: 'POST', url: '/v1/auth/refresh', headers: json, payload: JSON.stringify({ refreshToken }) });
    expect((await refresh(session.refreshToken)).statusCode).toBe(200);
    await ctx.db.query("UPDATE refresh_tokens SET revoked_at = now() - interval '1 hour' WHERE user_id = $1 AND replaced_by IS NOT NULL", [session.user.id]);
    expect((await refresh(session.refreshToken)).json().code).toBe('REFRESH_TOKEN_REUSED');

    for (const key of [fromSession, grandchild]) {
      const refused = await me(key.key);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().code).toBe('INVALID_API_KEY');
    }
    const revoked = await ctx.db.query('SELECT id FROM api_keys WHERE owner_id = $1 AND revoked_at IS NOT NULL ORDER BY id', [session.user.id]);
    expect(revoked.rows.map((row) => row.id)).toEqual([fromSession.id, grandchild.id].sort());
    expect((await me(fromOther.key)).statusCode).toBe(200);
  });

  it('#2: answers repeated requests of one login from the cache: one session lookup', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const lookups = vi.spyOn(ctx.t.app.get(RefreshTokensRepository), 'findSession');
    try {
      for (let i = 0; i < 10; i++) expect((await me(session.accessToken)).statusCode).toBe(200);
      expect(lookups).toHaveBeenCalledTimes(1);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('#2: a logout reaches another instance (two apps, one database) within the 5 s cache lifetime', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const other = await createTestApp({ database: ctx.t.database });
    try {
      const viaOther = () => other.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${session.accessToken}` } });
      // The other instance caches the login now; from here its view may be at most 5 s old.
      const cachedAt = Date.now();
      expect((await viaOther()).statusCode).toBe(200);
      expect((await call('POST', '/v1/auth/logout', session.accessToken)).statusCode).toBe(204);
      expect((await me(session.accessToken)).statusCode).toBe(401);
      let response = await viaOther();
      while (response.statusCode === 200 && Date.now() - cachedAt < 8_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        response = await viaOther();
      }
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('SESSION_REVOKED');
      // 5 s of cache lifetime, plus the polling step and a loaded machine's scheduling.
      expect(Date.now() - cachedAt).toBeLessThanOrEqual(6_000);
    } finally {
      await other.close();
    }
  });
});

describe('the last ACTIVE ADMIN (finding: the last ADMIN can demote or suspend itself)', () => {
  // Its own database: these tests count every ADMIN there is.
  const ctx = useTestApp();
  const call = callerFor(ctx);
  const activeAdmins = async () => (await ctx.db.query("SELECT id FROM users WHERE role = 'ADMIN' AND status = 'ACTIVE'")).rows.map((row) => row.id);

  it('refuses to demote, suspend or deactivate the last ACTIVE ADMIN with 409 LAST_ADMIN, and changes nothing', async () => {
    const only = await registerAdmin(ctx.t.app, ctx.db);
    for (const [url, body] of [
      [`/v1/users/${only.user.id}/role`, { role: 'USER' }],
      [`/v1/users/${only.user.id}/status`, { status: 'SUSPENDED' }],
      [`/v1/users/${only.user.id}/status`, { status: 'INACTIVE' }],
    ] as const) {
      const response = await call('PATCH', url, only.accessToken, body);
      expect(response.statusCode, url).toBe(409);
      expect(response.json().code).toBe('LAST_ADMIN');
    }
    expect(await activeAdmins()).toEqual([only.user.id]);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS live FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [only.user.id]);
    expect(rows[0].live).toBe(1);
    // A no-op on the last ADMIN is no removal.
    expect((await call('PATCH', `/v1/users/${only.user.id}/status`, only.accessToken, { status: 'ACTIVE' })).statusCode).toBe(200);
  });

  it('two ADMINs demoting each other at once: one wins, one ACTIVE ADMIN is left', async () => {
    await ctx.db.query("UPDATE users SET role = 'USER' WHERE role = 'ADMIN'");
    const a = await registerAdmin(ctx.t.app, ctx.db);
    const b = await registerAdmin(ctx.t.app, ctx.db);
    const results = await Promise.all([
      call('PATCH', `/v1/users/${b.user.id}/role`, a.accessToken, { role: 'USER' }),
      call('PATCH', `/v1/users/${a.user.id}/role`, b.accessToken, { role: 'USER' }),
    ]);
    expect(results.filter((response) => response.statusCode === 200)).toHaveLength(1);
    expect(await activeAdmins()).toHaveLength(1);
  });
});
