import { describe, expect, it } from 'vitest';
import { registerAdmin, registerAndLogin, registerUser, TEST_PASSWORD } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

describe('users', () => {
  const ctx = useTestApp();

  const call = callerFor(ctx);

  const admin = () => registerAdmin(ctx.t.app, ctx.db);

  it('updates your own profile, and refuses a bad time zone per field', async () => {
    const a = await registerAndLogin(ctx.t.app);
    const response = await call('PATCH', '/v1/users/update', a.accessToken, { firstName: 'Augusta', language: 'tr', timezone: 'Europe/Istanbul' });
    expect(response.statusCode).toBe(200);
    expect(response.json().user).toMatchObject({ id: a.user.id, firstName: 'Augusta', language: 'tr', timezone: 'Europe/Istanbul' });
    const bad = await call('PATCH', '/v1/users/update', a.accessToken, { timezone: 'Nowhere/Special' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].field).toBe('timezone');
  });

  it('answers an update with nothing to change with the user as it is', async () => {
    const a = await registerAndLogin(ctx.t.app);
    const response = await call('PATCH', '/v1/users/update', a.accessToken, { userId: a.user.id });
    expect(response.statusCode).toBe(200);
    expect(response.json().user.id).toBe(a.user.id);
  });

  it('does not let user A read or change user B through any endpoint', async () => {
    const a = await registerAndLogin(ctx.t.app);
    const b = await registerAndLogin(ctx.t.app);
    const update = await call('PATCH', '/v1/users/update', a.accessToken, { userId: b.user.id, firstName: 'Mallory' });
    expect(update.statusCode).toBe(403);
    for (const [method, url, payload] of [
      ['GET', `/v1/users?email=${encodeURIComponent(b.input.email)}`, undefined],
      ['PATCH', `/v1/users/${b.user.id}/status`, { status: 'SUSPENDED' }],
      ['PATCH', `/v1/users/${b.user.id}/role`, { role: 'ADMIN' }],
    ] as const) {
      const response = await call(method, url, a.accessToken, payload);
      expect(response.statusCode, url).toBe(403);
      expect(response.body).not.toContain(b.input.email);
    }
    const { rows } = await ctx.db.query('SELECT first_name, status, role FROM users WHERE id = $1', [b.user.id]);
    expect(rows[0]).toEqual({ first_name: 'Ada', status: 'ACTIVE', role: 'USER' });
  });

  it('lets an ADMIN update, list, suspend and promote other users', async () => {
    const root = await admin();
    const b = await registerAndLogin(ctx.t.app);

    const update = await call('PATCH', '/v1/users/update', root.accessToken, { userId: b.user.id, lastName: 'Byron' });
    expect(update.statusCode).toBe(200);
    expect(update.json().user).toMatchObject({ id: b.user.id, lastName: 'Byron' });

    const missing = await call('PATCH', '/v1/users/update', root.accessToken, { userId: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y', lastName: 'X' });
    expect(missing.statusCode).toBe(404);

    const list = await call('GET', `/v1/users?email=${encodeURIComponent(b.input.email.toUpperCase())}`, root.accessToken);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ items: [expect.objectContaining({ id: b.user.id })], nextCursor: null });

    const suspend = await call('PATCH', `/v1/users/${b.user.id}/status`, root.accessToken, { status: 'SUSPENDED' });
    expect(suspend.json().user.status).toBe('SUSPENDED');
    const refresh = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: JSON.stringify({ refreshToken: b.refreshToken }),
      headers: { 'content-type': 'application/json' },
    });
    expect(refresh.statusCode).toBe(401);
    const relogin = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: JSON.stringify({ email: b.input.email, password: TEST_PASSWORD }),
      headers: { 'content-type': 'application/json' },
    });
    expect(relogin.json().code).toBe('ACCOUNT_SUSPENDED');

    const promote = await call('PATCH', `/v1/users/${b.user.id}/role`, root.accessToken, { role: 'ADMIN' });
    expect(promote.json().user.role).toBe('ADMIN');
  });

  it('pages through users with a cursor, and escapes LIKE wildcards in the email filter', async () => {
    const root = await admin();
    const tag = `page${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await registerUser(ctx.t.app, { email: `${tag}-${i}@example.com` })).user.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await call('GET', `/v1/users?email=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, root.accessToken);
      expect(response.statusCode).toBe(200);
      const page = response.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item: { id: string }) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);

    const wildcard = await call('GET', '/v1/users?email=%25', root.accessToken);
    expect(wildcard.json().items).toEqual([]);
    const tooMany = await call('GET', '/v1/users?limit=101', root.accessToken);
    expect(tooMany.statusCode).toBe(422);
  });
});
