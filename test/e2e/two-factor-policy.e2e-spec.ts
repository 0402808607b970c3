import { describe, expect, it } from 'vitest';
import { enableTotp, loginForChallenge, totpCode, wrongCode } from '../factories/two-factor';
import { insertUser, login, registerAndLogin, TEST_PASSWORD } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

const json = { 'content-type': 'application/json' };

describe('REQUIRE_2FA_FOR_ADMINS=true', () => {
  const ctx = useTestApp({ env: { REQUIRE_2FA_FOR_ADMINS: 'true' } });
  const call = callerFor(ctx);
  const post = (url: string, payload: unknown) => ctx.t.app.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(payload) });

  it('an ADMIN without 2FA gets a TOTP_SETUP challenge that only allows setup and confirm, then logs in with a code', async () => {
    const admin = await insertUser(ctx.db, { role: 'ADMIN' });
    const loginResponse = await post('/v1/auth/login', { email: admin.email, password: admin.password });
    expect(loginResponse.statusCode).toBe(200);
    expect(loginResponse.headers['set-cookie']).toBeUndefined();
    expect(loginResponse.json()).toMatchObject({ accessToken: null, refreshToken: null, requiredAuthenticatorType: 'TOTP_SETUP' });
    expect((await ctx.db.query('SELECT 1 FROM refresh_tokens WHERE user_id = $1', [admin.id])).rows).toHaveLength(0);
    const challenge: string = loginResponse.json().challenge.token;

    // It is no credential, and no TOTP challenge either.
    expect((await call('GET', '/v1/users/me', challenge)).statusCode).toBe(401);
    expect((await post('/v1/auth/2fa/verify', { challenge, code: '123456' })).json().code).toBe('TWO_FACTOR_CHALLENGE_INVALID');
    expect((await post('/v1/auth/2fa/totp/setup', { challenge: 'tfc_01jh8x2v3kf6qz9w0c4m5t7r8y.forged' })).statusCode).toBe(401);

    const setup = await post('/v1/auth/2fa/totp/setup', { challenge });
    expect(setup.statusCode).toBe(200);
    const { secret } = setup.json();
    const confirm = await post('/v1/auth/2fa/totp/confirm', { challenge, code: totpCode(secret) });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.json().recoveryCodes).toHaveLength(10);
    expect(confirm.headers['set-cookie']).toBeUndefined();
    // Spent by the confirmation.
    expect((await post('/v1/auth/2fa/totp/setup', { challenge })).json().code).toBe('TWO_FACTOR_CHALLENGE_INVALID');

    const next = await post('/v1/auth/login', { email: admin.email, password: admin.password });
    expect(next.json().requiredAuthenticatorType).toBe('TOTP');
    const verified = await post('/v1/auth/2fa/verify', { challenge: next.json().challenge.token, code: totpCode(secret, 1) });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user.role).toBe('ADMIN');
    expect((await call('GET', '/v1/users?limit=1', verified.json().accessToken.token)).statusCode).toBe(200);
  });

  it('a USER without 2FA still logs in with the password alone', async () => {
    const user = await insertUser(ctx.db);
    expect((await login(ctx.t.app, user.email)).body.requiredAuthenticatorType).toBeNull();
  });
});

describe('two-factor rate limits', () => {
  const ctx = useTestApp({ env: { RATE_LIMIT_TWO_FACTOR: '100000/60', RATE_LIMIT_TWO_FACTOR_CHALLENGE: '3/60' } });

  it('counts the attempts on one challenge, whoever makes them', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { secret } = await enableTotp(ctx.t.app, user.accessToken);
    const challenge = await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD);
    const attempt = (code: string) =>
      ctx.t.app.inject({ method: 'POST', url: '/v1/auth/2fa/verify', headers: json, payload: JSON.stringify({ challenge, code }) });
    for (let n = 0; n < 3; n++) expect((await attempt(wrongCode(secret))).statusCode).toBe(400);
    const limited = await attempt(totpCode(secret, 1));
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
  });
});

describe('two-factor verify is rate-limited per IP', () => {
  const ctx = useTestApp({ env: { RATE_LIMIT_TWO_FACTOR: '2/60' } });
  const call = callerFor(ctx);

  it('refuses the third attempt from one address, whatever the challenge', async () => {
    const attempt = () =>
      ctx.t.app.inject({ method: 'POST', url: '/v1/auth/2fa/verify', headers: json, payload: JSON.stringify({ challenge: 'tfc_x.y', code: '123456' }) });
    expect((await attempt()).statusCode).toBe(401);
    expect((await attempt()).statusCode).toBe(401);
    expect((await attempt()).statusCode).toBe(429);
  });

  it('limits password guesses at setup as at disable: the third try is 429, even with the right password', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const setup = (password: string) => call('POST', '/v1/auth/2fa/totp/setup', user.accessToken, { password });
    expect((await setup('guess one')).json().code).toBe('PASSWORD_INCORRECT');
    expect((await setup('guess two')).json().code).toBe('PASSWORD_INCORRECT');
    const limited = await setup(TEST_PASSWORD);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect((await ctx.db.query('SELECT 1 FROM totp_credentials WHERE user_id = $1', [user.user.id])).rowCount).toBe(0);
  });
});
