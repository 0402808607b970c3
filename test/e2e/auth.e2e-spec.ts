import { Logger } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock';
import { Retention } from '../../src/common/background';
import { login, registerAndLogin, registerUser, TEST_PASSWORD, userInput } from '../factories/users';
import { TEST_JWT_SECRET, useTestApp } from '../helpers/test-app';

const json = { 'content-type': 'application/json' };

describe('auth: register, login, refresh, logout', () => {
  const ctx = useTestApp({ env: { CORS_ORIGINS: 'https://app.example.com', LOGIN_FAILURE_LIMIT: '10/900' } });

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    ctx.t.app.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { ...json, ...headers } });
  const me = (headers: Record<string, string>) => ctx.t.app.inject({ method: 'GET', url: '/v1/users/me', headers });

  it('registers an INACTIVE user and stores only an argon2id hash of the password', async () => {
    const { input, user } = await registerUser(ctx.t.app);
    expect(user).toMatchObject({ email: input.email, status: 'INACTIVE', role: 'USER', firstName: 'Ada' });
    expect(JSON.stringify(user)).not.toContain(TEST_PASSWORD);
    const { rows } = await ctx.db.query('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  });

  it('refuses an email that exists in another case with 400 USER_EXISTS', async () => {
    const { input } = await registerUser(ctx.t.app);
    const again = await post('/v1/auth/register', userInput({ email: input.email.toUpperCase() }));
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('USER_EXISTS');
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [input.email]);
    expect(rows[0].n).toBe(1);
  });

  it('refuses unknown fields, a bad time zone, a bad locale and a common password with one 422 entry each', async () => {
    const response = await post('/v1/auth/register', userInput({ role: 'ADMIN', timezone: 'Mars/Olympus', locale: 'not a locale', password: 'password123' }));
    expect(response.statusCode).toBe(422);
    const fields = Object.fromEntries(response.json().errors.map((error: { field: string; code: string }) => [error.field, error.code]));
    expect(fields).toEqual({ role: 'UNRECOGNIZED_KEY', timezone: 'INVALID_VALUE', locale: 'INVALID_VALUE', password: 'COMMON_PASSWORD' });
    expect(response.json().errors.find((error: { field: string }) => error.field === 'password').message).toBe('This password is too common');
  });

  it('accepts time zone aliases and never trims a password', async () => {
    const { input } = await registerUser(ctx.t.app, { timezone: 'Asia/Kolkata', password: '  spaced out passphrase  ' });
    const trimmed = await post('/v1/auth/login', { email: input.email, password: 'spaced out passphrase' });
    expect(trimmed.statusCode).toBe(401);
    await login(ctx.t.app, input.email, '  spaced out passphrase  ');
  });

  it('logs in with the published session shape and two HttpOnly cookies', async () => {
    const { input, user } = await registerUser(ctx.t.app, { middleName: 'King' });
    const response = await post('/v1/auth/login', { email: input.email.toUpperCase(), password: TEST_PASSWORD });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      accessToken: { token: expect.any(String), expirationDate: expect.any(String) },
      refreshToken: { token: expect.any(String), expirationDate: expect.any(String) },
      requiredAuthenticatorType: null,
      user: {
        id: user.id,
        email: input.email,
        name: 'Ada King Lovelace',
        role: 'USER',
        status: 'INACTIVE',
        language: 'en',
        locale: 'en-GB',
        timezone: 'Europe/London',
      },
    });
    const access = response.cookies.find((cookie) => cookie.name === 'gatehouse_auth');
    const refresh = response.cookies.find((cookie) => cookie.name === 'gatehouse_auth_refresh');
    expect(access).toMatchObject({ value: body.accessToken.token, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(refresh).toMatchObject({ value: body.refreshToken.token, httpOnly: true, sameSite: 'Lax', path: '/v1/auth' });
    const claims = jwt.decode(body.accessToken.token) as Record<string, unknown>;
    expect(claims).toMatchObject({
      sub: user.id,
      role: 'USER',
      status: 'INACTIVE',
      lang: 'en',
      locale: 'en-GB',
      tz: 'Europe/London',
      iss: 'gatehouse',
      aud: 'gatehouse-api',
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
  });

  it('answers a wrong password and an unknown email alike with 401 INVALID_CREDENTIALS', async () => {
    const { input } = await registerUser(ctx.t.app);
    const wrong = await post('/v1/auth/login', { email: input.email, password: 'not-the-password' });
    const unknown = await post('/v1/auth/login', { email: 'nobody-here@example.com', password: 'not-the-password' });
    for (const response of [wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('INVALID_CREDENTIALS');
      expect(response.headers['www-authenticate']).toBeDefined();
    }
    expect(wrong.json().detail).toBe(unknown.json().detail);
  });

  it('answers the 11th failed login in the window with 429 and Retry-After, before checking the password', async () => {
    const { input } = await registerUser(ctx.t.app);
    const results = await Promise.all(Array.from({ length: 11 }, () => post('/v1/auth/login', { email: input.email, password: 'wrong-password-1' })));
    const statuses = results.map((response) => response.statusCode).sort();
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
    const limited = await post('/v1/auth/login', { email: input.email, password: TEST_PASSWORD });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(800);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(900);
  });

  it('prunes failed-login counters whose window has ended, and keeps open ones', async () => {
    await ctx.db.query(
      "INSERT INTO login_failures VALUES ('email:old@example.com', 3, now() - interval '1 minute'), ('email:open@example.com', 3, now() + interval '10 minutes')",
    );
    await ctx.t.app.get(Retention).run('login failure counters whose window ended');
    const { rows } = await ctx.db.query("SELECT key FROM login_failures WHERE key IN ('email:old@example.com', 'email:open@example.com')");
    expect(rows).toEqual([{ key: 'email:open@example.com' }]);
  });

  it('lets an INACTIVE user log in but refuses a SUSPENDED one with 403 ACCOUNT_SUSPENDED', async () => {
    const { input, user } = await registerUser(ctx.t.app);
    await ctx.db.query("UPDATE users SET status = 'SUSPENDED' WHERE id = $1", [user.id]);
    const response = await post('/v1/auth/login', { email: input.email, password: TEST_PASSWORD });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('ACCOUNT_SUSPENDED');
  });

  it('serves /v1/users/me by bearer token and by cookie alone', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const byBearer = await me({ authorization: `Bearer ${session.accessToken}` });
    expect(byBearer.statusCode).toBe(200);
    expect(byBearer.json().user).toMatchObject({ id: session.user.id, status: 'ACTIVE' });
    const byCookie = await me({ cookie: `gatehouse_auth=${session.cookies.gatehouse_auth}` });
    expect(byCookie.statusCode).toBe(200);
    expect(byCookie.json().user.id).toBe(session.user.id);
    const anonymous = await me({});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('UNAUTHORIZED');
  });

  it('refuses `Bearer <token> <junk>` as an invalid token (the rate limiter would have counted it by IP, not by user), with or without the cookie', async () => {
    const session = await registerAndLogin(ctx.t.app);
    for (const headers of <Record<string, string>[]>[
      { authorization: `Bearer ${session.accessToken} junk` },
      { authorization: `Bearer ${session.accessToken} junk`, cookie: `gatehouse_auth=${session.cookies.gatehouse_auth}` },
    ]) {
      const response = await me(headers);
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('ACCESS_TOKEN_INVALID');
    }
    expect((await me({ authorization: `  bearer   ${session.accessToken}  ` })).statusCode).toBe(200);
  });

  it('rotates refresh tokens, and replaying a rotated one after the reuse interval revokes the whole family (a security event)', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const first = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
    expect(first.statusCode).toBe(200);
    const second = await post('/v1/auth/refresh', { refreshToken: first.json().refreshToken.token });
    expect(second.statusCode).toBe(200);
    const latest = second.json().refreshToken.token as string;

    // 11 s later: outside the 10 s reuse interval, a replay is a leaked token, not a second tab.
    vi.spyOn(ctx.t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 11_000));
    const warnings = vi.spyOn(Logger.prototype, 'warn');
    try {
      const replay = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().code).toBe('REFRESH_TOKEN_REUSED');
      expect(warnings).toHaveBeenCalledWith(
        expect.objectContaining({ event: 'refresh_token_reuse', userId: session.user.id }),
        expect.stringContaining('Security'),
      );
    } finally {
      vi.restoreAllMocks();
    }

    const afterReuse = await post('/v1/auth/refresh', { refreshToken: latest });
    expect(afterReuse.statusCode).toBe(401);
    expect(afterReuse.json().code).toBe('REFRESH_TOKEN_INVALID');
    const { rows } = await ctx.db.query('SELECT count(*)::int AS live FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [session.user.id]);
    expect(rows[0].live).toBe(0);
  });

  it('two tabs refreshing at once with the same token both get the same successor, and the login stays (finding: two tabs revoked the family)', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const results = await Promise.all([0, 1].map(() => post('/v1/auth/refresh', { refreshToken: session.refreshToken })));
    expect(results.map((response) => response.statusCode)).toEqual([200, 200]);
    const [first, second] = results.map((response) => response.json().refreshToken);
    expect(second).toEqual(first);
    const { rows } = await ctx.db.query('SELECT id, revoked_at FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at', [session.user.id]);
    expect(rows).toHaveLength(2);
    expect(rows.filter((row) => row.revoked_at === null).map((row) => row.id)).toEqual([first.token.split('.')[0]]);
    // The shared successor works, once, like any refresh token.
    expect((await post('/v1/auth/refresh', { refreshToken: first.token })).statusCode).toBe(200);
  });

  it('refreshes and logs out by cookie alone, with no body at all', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const cookie = `gatehouse_auth=${session.cookies.gatehouse_auth}; gatehouse_auth_refresh=${session.cookies.gatehouse_auth_refresh}`;
    const refreshed = await ctx.t.app.inject({ method: 'POST', url: '/v1/auth/refresh', headers: { cookie, origin: 'https://app.example.com' } });
    expect(refreshed.statusCode).toBe(200);
    const next = Object.fromEntries(refreshed.cookies.map((c) => [c.name, c.value]));
    const logout = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { cookie: `gatehouse_auth=${next.gatehouse_auth}; gatehouse_auth_refresh=${next.gatehouse_auth_refresh}`, origin: 'https://app.example.com' },
    });
    expect(logout.statusCode).toBe(204);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS live FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [session.user.id]);
    expect(rows[0].live).toBe(0);
  });

  it('logs out with only the bearer token: the login it belongs to ends', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const other = await login(ctx.t.app, session.input.email);
    const response = await ctx.t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${session.accessToken}` } });
    expect(response.statusCode).toBe(204);
    expect((await post('/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode).toBe(401);
    // Another login of the same user is a different session and stays.
    expect((await post('/v1/auth/refresh', { refreshToken: other.refreshToken })).statusCode).toBe(200);
  });

  it('refreshes from the refresh cookie, but not from a foreign origin', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const cookie = `gatehouse_auth_refresh=${session.cookies.gatehouse_auth_refresh}`;
    const foreign = await post('/v1/auth/refresh', {}, { cookie, origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().code).toBe('CSRF_REJECTED');
    const ok = await post('/v1/auth/refresh', {}, { cookie, origin: 'https://app.example.com' });
    expect(ok.statusCode).toBe(200);
    expect(ok.cookies.find((c) => c.name === 'gatehouse_auth_refresh')?.value).toBe(ok.json().refreshToken.token);
  });

  it('refuses a cookie-authenticated write from a foreign origin, and allows it from a listed one', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const cookie = `gatehouse_auth=${session.cookies.gatehouse_auth}; gatehouse_auth_refresh=${session.cookies.gatehouse_auth_refresh}`;
    const foreign = await post('/v1/auth/logout', {}, { cookie, origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().code).toBe('CSRF_REJECTED');
    const crossSite = await post('/v1/auth/logout', {}, { cookie, 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);
    const sameOrigin = await post('/v1/auth/logout', {}, { cookie, origin: 'https://app.example.com' });
    expect(sameOrigin.statusCode).toBe(204);
  });

  it('logs out: revokes the refresh family and clears both cookies', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const response = await post('/v1/auth/logout', { refreshToken: session.refreshToken }, { authorization: `Bearer ${session.accessToken}` });
    expect(response.statusCode).toBe(204);
    const cleared = Object.fromEntries(response.cookies.map((cookie) => [cookie.name, cookie]));
    expect(cleared.gatehouse_auth?.value).toBe('');
    expect(cleared.gatehouse_auth_refresh?.value).toBe('');
    const refresh = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
    expect(refresh.statusCode).toBe(401);
  });

  describe('access tokens', () => {
    const claims = (overrides: Record<string, unknown> = {}) => ({
      sub: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y',
      sid: 'rtk_01jh8x2v3kf6qz9w0c4m5t7r8y',
      role: 'ADMIN',
      status: 'ACTIVE',
      lang: 'en',
      locale: 'en',
      tz: 'UTC',
      iss: 'gatehouse',
      aud: 'gatehouse-api',
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 600,
      ...overrides,
    });
    const sign = (payload: object, secret = TEST_JWT_SECRET, options: jwt.SignOptions = {}) => jwt.sign(payload, secret, { algorithm: 'HS256', ...options });
    const withoutExp = ({ exp: _exp, ...rest }: Record<string, unknown>) => rest;
    const unsigned = (payload: object) =>
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

    it.each([
      ['expired', () => sign(claims({ exp: Math.floor(Date.now() / 1000) - 10 })), 'ACCESS_TOKEN_EXPIRED'],
      ['without exp', () => sign(withoutExp(claims())), 'ACCESS_TOKEN_INVALID'],
      ['with alg none', () => unsigned(claims()), 'ACCESS_TOKEN_INVALID'],
      ['signed with the wrong key', () => sign(claims(), 'another-secret-0123456789-abcdefghijklmnop'), 'ACCESS_TOKEN_INVALID'],
      ['signed with HS512', () => sign(claims(), TEST_JWT_SECRET, { algorithm: 'HS512' }), 'ACCESS_TOKEN_INVALID'],
      ['for another issuer', () => sign(claims({ iss: 'someone-else' })), 'ACCESS_TOKEN_INVALID'],
      ['for another audience', () => sign(claims({ aud: 'another-api' })), 'ACCESS_TOKEN_INVALID'],
      ['garbage', () => 'not.a.jwt', 'ACCESS_TOKEN_INVALID'],
    ])('refuses a token %s with 401', async (_name, token, code) => {
      const variants: Record<string, string>[] = [{ authorization: `Bearer ${token()}` }, { cookie: `gatehouse_auth=${token()}` }];
      for (const headers of variants) {
        const response = await me(headers);
        expect(response.statusCode).toBe(401);
        expect(response.json().code).toBe(code);
      }
    });
  });

  describe('languages', () => {
    it('follows Accept-Language on open endpoints', async () => {
      const response = await post('/v1/auth/login', { email: 'nobody@example.com', password: 'whatever-password' }, { 'accept-language': 'tr' });
      expect(response.json().title).toBe('Geçersiz kimlik bilgileri');
    });

    it("translates a refinement's own field code too", async () => {
      const response = await post('/v1/auth/register', userInput({ password: 'password123' }), { 'accept-language': 'tr' });
      expect(response.json().errors).toEqual([{ field: 'password', code: 'COMMON_PASSWORD', message: 'Bu parola çok yaygın' }]);
    });

    it("follows the signed-in user's language on authenticated endpoints, over Accept-Language", async () => {
      const session = await registerAndLogin(ctx.t.app, { language: 'ar', locale: 'ar-SA', timezone: 'Asia/Riyadh' });
      const response = await ctx.t.app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        payload: JSON.stringify({ unexpected: true }),
        headers: { ...json, authorization: `Bearer ${session.accessToken}`, 'accept-language': 'tr' },
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().title).toBe('فشل التحقق');
      expect(response.headers['content-language']).toBe('ar');
    });
  });
});
