import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Retention } from '../../src/common/background';
import { insertApiKey } from '../factories/api-keys';
import { enableTotp, loginForChallenge, totpCode, wrongCode } from '../factories/two-factor';
import { login, registerAdmin, registerAndLogin, TEST_PASSWORD } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

const json = { 'content-type': 'application/json' };

describe('two-factor login (TOTP)', () => {
  const ctx = useTestApp();
  const call = callerFor(ctx);
  const post = (url: string, payload: unknown) => ctx.t.app.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(payload) });
  const verify = (challenge: string, factor: { code: string } | { recoveryCode: string }) => post('/v1/auth/2fa/verify', { challenge, ...factor });
  const refresh = (refreshToken: string) => post('/v1/auth/refresh', { refreshToken });
  const rows = async (sql: string, params: unknown[]) => (await ctx.db.query(sql, params)).rows;
  const refreshTokenCount = async (userId: string) => (await rows('SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1', [userId]))[0].n;

  afterEach(() => vi.restoreAllMocks());

  it('setup gives a secret, its otpauth URL and a QR code without switching 2FA on; confirm switches it on and shows 10 recovery codes once', async () => {
    const user = await registerAndLogin(ctx.t.app);
    expect((await call('GET', '/v1/users/me', user.accessToken)).json().user.twoFactorEnabled).toBe(false);

    const first = await call('POST', '/v1/auth/2fa/totp/setup', user.accessToken, { password: TEST_PASSWORD });
    expect(first.statusCode).toBe(200);
    const { secret: firstSecret, otpauthUrl, qrSvg } = first.json();
    expect(firstSecret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\/Gatehouse:/);
    expect(otpauthUrl).toContain(`secret=${firstSecret}`);
    expect(qrSvg).toMatch(/^<svg/);
    const [pending] = await rows('SELECT secret_sealed, confirmed_at FROM totp_credentials WHERE user_id = $1', [user.user.id]);
    expect(pending.secret_sealed).toMatch(/^v1\./);
    expect(pending.secret_sealed).not.toContain(firstSecret);
    expect(pending.confirmed_at).toBeNull();
    // Not on yet: the password alone still logs in.
    expect((await login(ctx.t.app, user.input.email)).body.requiredAuthenticatorType).toBeNull();

    // A new setup replaces the unconfirmed one: the first secret's codes no longer confirm.
    const { secret } = (await call('POST', '/v1/auth/2fa/totp/setup', user.accessToken, { password: TEST_PASSWORD })).json();
    expect(secret).not.toBe(firstSecret);
    const stale = await call('POST', '/v1/auth/2fa/totp/confirm', user.accessToken, { code: wrongCode(secret), password: TEST_PASSWORD });
    expect(stale.statusCode).toBe(400);
    expect(stale.json().code).toBe('TWO_FACTOR_CODE_INVALID');

    const confirm = await call('POST', '/v1/auth/2fa/totp/confirm', user.accessToken, { code: totpCode(secret), password: TEST_PASSWORD });
    expect(confirm.statusCode).toBe(200);
    const { recoveryCodes } = confirm.json();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const stored = await rows('SELECT code_hash, used_at FROM recovery_codes WHERE user_id = $1', [user.user.id]);
    expect(stored).toHaveLength(10);
    for (const row of stored) {
      expect(row.used_at).toBeNull();
      expect(recoveryCodes).not.toContain(row.code_hash);
      // Keyed (HMAC under a server key), not the plain SHA-256 anyone could compute from a guess.
      expect(row.code_hash).toMatch(/^v1\.[0-9a-f]{64}$/);
    }
    const plain = recoveryCodes.map((code: string) => createHash('sha256').update(code.replace('-', '')).digest('hex'));
    for (const row of stored) expect(plain.some((hash: string) => row.code_hash.includes(hash))).toBe(false);
    expect((await call('GET', '/v1/users/me', user.accessToken)).json().user.twoFactorEnabled).toBe(true);
    expect((await call('POST', '/v1/auth/2fa/totp/setup', user.accessToken, { password: TEST_PASSWORD })).json().code).toBe('TWO_FACTOR_ALREADY_ENABLED');
    expect((await call('POST', '/v1/auth/2fa/totp/confirm', user.accessToken, { code: totpCode(secret, 1), password: TEST_PASSWORD })).json().code).toBe(
      'TWO_FACTOR_ALREADY_ENABLED',
    );
  });

  it('confirm without a setup is refused, and an API key can neither set up nor confirm', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const response = await call('POST', '/v1/auth/2fa/totp/confirm', user.accessToken, { code: '123456', password: TEST_PASSWORD });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('TWO_FACTOR_SETUP_REQUIRED');
    const key = await insertApiKey(ctx.db, { ownerId: user.user.id });
    expect((await call('POST', '/v1/auth/2fa/totp/setup', key.key, { password: TEST_PASSWORD })).statusCode).toBe(403);
    expect(await rows('SELECT 1 FROM totp_credentials WHERE user_id = $1', [user.user.id])).toHaveLength(0);
  });

  it('a login with 2FA on answers a challenge, with no cookie and no refresh token; verify with a real code gives tokens and cookies; the same code again is refused', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { secret } = await enableTotp(ctx.t.app, user.accessToken);
    const tokensBefore = await refreshTokenCount(user.user.id);

    for (const url of ['/v1/auth/login', '/auth/login']) {
      const response = await post(url, { email: user.input.email, password: TEST_PASSWORD });
      expect(response.statusCode).toBe(200);
      expect(response.headers['set-cookie']).toBeUndefined();
      const body = response.json();
      expect(body).toEqual({
        accessToken: null,
        refreshToken: null,
        requiredAuthenticatorType: 'TOTP',
        challenge: { token: expect.stringMatching(/^tfc_\w+\.[\w-]+$/), expirationDate: expect.any(String) },
      });
      const lifetime = new Date(body.challenge.expirationDate).getTime() - Date.now();
      expect(lifetime).toBeGreaterThan(290_000);
      expect(lifetime).toBeLessThanOrEqual(300_000);
    }
    expect(await refreshTokenCount(user.user.id)).toBe(tokensBefore);
    const [stored] = await rows('SELECT token_hash FROM two_factor_challenges WHERE user_id = $1 LIMIT 1', [user.user.id]);
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);

    const challenge = await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD);
    // The challenge is no credential.
    expect((await call('GET', '/v1/users/me', challenge)).statusCode).toBe(401);
    const code = totpCode(secret, 1);
    const verified = await verify(challenge, { code });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().requiredAuthenticatorType).toBeNull();
    expect(verified.json().user.id).toBe(user.user.id);
    const cookies = Object.fromEntries(verified.cookies.map((cookie) => [cookie.name, cookie]));
    expect(cookies.gatehouse_auth?.value).toBe(verified.json().accessToken.token);
    expect(cookies.gatehouse_auth_refresh?.value).toBe(verified.json().refreshToken.token);
    expect(cookies.gatehouse_auth?.httpOnly).toBe(true);
    expect((await call('GET', '/v1/users/me', verified.json().accessToken.token)).statusCode).toBe(200);
    expect((await refresh(verified.json().refreshToken.token)).statusCode).toBe(200);

    // The challenge works once.
    const again = await verify(challenge, { code: totpCode(secret, 1) });
    expect(again.statusCode).toBe(401);
    expect(again.json().code).toBe('TWO_FACTOR_CHALLENGE_INVALID');
    // The code works once, even with a fresh challenge.
    const replay = await verify(await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD), { code });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().code).toBe('TWO_FACTOR_CODE_INVALID');
    expect(replay.headers['set-cookie']).toBeUndefined();
  });

  it('5 wrong codes void the challenge: even the right code is refused after them', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { secret } = await enableTotp(ctx.t.app, user.accessToken);
    const challenge = await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const response = await verify(challenge, { code: wrongCode(secret) });
      expect(response.statusCode, `attempt ${attempt}`).toBe(400);
      expect(response.json().code).toBe('TWO_FACTOR_CODE_INVALID');
    }
    const tokensBefore = await refreshTokenCount(user.user.id);
    const right = await verify(challenge, { code: totpCode(secret, 1) });
    expect(right.statusCode).toBe(401);
    expect(right.json().code).toBe('TWO_FACTOR_CHALLENGE_INVALID');
    expect(right.headers['set-cookie']).toBeUndefined();
    expect(await refreshTokenCount(user.user.id)).toBe(tokensBefore);
    const [row] = await rows('SELECT failed_attempts, consumed_at FROM two_factor_challenges WHERE user_id = $1', [user.user.id]);
    expect(row).toEqual({ failed_attempts: 5, consumed_at: null });
    // The code itself was right and is still unspent: a new challenge takes it.
    expect((await verify(await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD), { code: totpCode(secret, 1) })).statusCode).toBe(200);
  });

  it('racing requests: one challenge with two recovery codes, or one code with two challenges, sign in once', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { secret, recoveryCodes } = await enableTotp(ctx.t.app, user.accessToken);
    const challenge = await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD);
    const sameChallenge = await Promise.all([verify(challenge, { recoveryCode: recoveryCodes[0]! }), verify(challenge, { recoveryCode: recoveryCodes[1]! })]);
    expect(sameChallenge.map((response) => response.statusCode).sort()).toEqual([200, 401]);
    // The loser's recovery code was not spent.
    expect(await rows('SELECT 1 FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL', [user.user.id])).toHaveLength(1);

    const code = totpCode(secret, 1);
    const challenges = await Promise.all([1, 2].map(() => loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD)));
    const sameCode = await Promise.all(challenges.map((each) => verify(each, { code })));
    expect(sameCode.map((response) => response.statusCode).sort()).toEqual([200, 400]);
  });

  it('each recovery code works once, in place of a code', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { recoveryCodes } = await enableTotp(ctx.t.app, user.accessToken);
    const [first, second] = recoveryCodes as [string, string];
    const signIn = (recoveryCode: string) =>
      loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD).then((challenge) => verify(challenge, { recoveryCode }));

    const used = await signIn(first);
    expect(used.statusCode).toBe(200);
    expect(used.json().user.id).toBe(user.user.id);
    const reused = await signIn(first);
    expect(reused.statusCode).toBe(400);
    expect(reused.json().code).toBe('TWO_FACTOR_CODE_INVALID');
    // Typed as a person would: upper case, without the dash.
    expect((await signIn(second.toUpperCase().replace('-', ''))).statusCode).toBe(200);
    expect((await signIn(second)).statusCode).toBe(400);
    const spent = await rows('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL', [user.user.id]);
    expect(spent[0].n).toBe(2);
  });

  it('verify and disable answer bad input with 422 and per-field errors', async () => {
    const fields = (response: { json(): { errors: { field: string }[] } }) => response.json().errors.map((error) => error.field);
    const both = await post('/v1/auth/2fa/verify', { challenge: 'tfc_x.y', code: '123456', recoveryCode: 'abcde-fghjk' });
    expect(both.statusCode).toBe(422);
    expect(both.json().errors).toEqual([{ field: 'code', code: 'ONE_FACTOR', message: 'Give either code or recoveryCode' }]);
    const neither = await post('/v1/auth/2fa/verify', { challenge: 'tfc_x.y' });
    expect(fields(neither)).toEqual(['code']);
    const badCode = await post('/v1/auth/2fa/verify', { challenge: '', code: '12ab56' });
    expect(badCode.statusCode).toBe(422);
    expect(fields(badCode).sort()).toEqual(['challenge', 'code']);

    const user = await registerAndLogin(ctx.t.app);
    const noPassword = await call('POST', '/v1/auth/2fa/disable', user.accessToken, { code: '123456' });
    expect(noPassword.statusCode).toBe(422);
    expect(fields(noPassword)).toEqual(['password']);
  });

  it('disable needs the password and a code; it switches 2FA off and ends every other login', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { secret, recoveryCodes } = await enableTotp(ctx.t.app, user.accessToken);
    const other = (await verify(await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD), { recoveryCode: recoveryCodes[0]! })).json();
    const disable = (payload: unknown) => call('POST', '/v1/auth/2fa/disable', user.accessToken, payload);

    const noCode = await disable({ password: TEST_PASSWORD });
    expect(noCode.statusCode).toBe(422);
    expect(noCode.json().errors.map((error: { field: string }) => error.field)).toEqual(['code']);
    const wrongPassword = await disable({ password: 'not the password', recoveryCode: recoveryCodes[1] });
    expect(wrongPassword.statusCode).toBe(400);
    expect(wrongPassword.json().code).toBe('PASSWORD_INCORRECT');
    const wrong = await disable({ password: TEST_PASSWORD, code: wrongCode(secret) });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('TWO_FACTOR_CODE_INVALID');
    expect(await rows('SELECT 1 FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL', [user.user.id])).toHaveLength(1);
    // Refused attempts spent nothing: the recovery code given with the wrong password still works.
    expect(await rows('SELECT 1 FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL', [user.user.id])).toHaveLength(1);

    const off = await disable({ password: TEST_PASSWORD, code: totpCode(secret, 1) });
    expect(off.statusCode).toBe(204);
    expect(await rows('SELECT 1 FROM totp_credentials WHERE user_id = $1', [user.user.id])).toHaveLength(0);
    expect(await rows('SELECT 1 FROM recovery_codes WHERE user_id = $1', [user.user.id])).toHaveLength(0);
    expect((await call('GET', '/v1/users/me', user.accessToken)).json().user.twoFactorEnabled).toBe(false);
    // The other login has ended; this one goes on.
    expect((await refresh(other.refreshToken.token)).statusCode).toBe(401);
    expect((await call('GET', '/v1/users/me', other.accessToken.token)).statusCode).toBe(401);
    expect((await refresh(user.refreshToken)).statusCode).toBe(200);
    // The password alone logs in again.
    const plain = await post('/v1/auth/login', { email: user.input.email, password: TEST_PASSWORD });
    expect(plain.json().requiredAuthenticatorType).toBeNull();
    expect(plain.headers['set-cookie']).toBeDefined();

    const again = await disable({ password: TEST_PASSWORD, code: '123456' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('TWO_FACTOR_NOT_ENABLED');
  });

  it('switching 2FA on revokes the refresh tokens issued before, except the login that switched it on; API keys are unaffected', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const older = await login(ctx.t.app, user.input.email);
    const key = await insertApiKey(ctx.db, { ownerId: user.user.id });

    await enableTotp(ctx.t.app, user.accessToken);

    const stale = await refresh(older.refreshToken);
    expect(stale.statusCode).toBe(401);
    expect(stale.json().code).toBe('REFRESH_TOKEN_INVALID');
    expect((await call('GET', '/v1/users/me', older.accessToken)).json().code).toBe('SESSION_REVOKED');
    const live = await rows('SELECT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [user.user.id]);
    expect(live).toHaveLength(1);
    expect((await refresh(user.refreshToken)).statusCode).toBe(200);
    expect((await call('GET', '/v1/users/me', key.key)).statusCode).toBe(200);
  });

  it("an ADMIN resets a user's 2FA (logged as a security event); others may not", async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    const user = await registerAndLogin(ctx.t.app);
    await enableTotp(ctx.t.app, user.accessToken);

    const forbidden = await call('POST', `/v1/users/${user.user.id}/2fa/reset`, user.accessToken);
    expect(forbidden.statusCode).toBe(403);
    expect(await rows('SELECT 1 FROM totp_credentials WHERE user_id = $1', [user.user.id])).toHaveLength(1);
    expect((await call('POST', '/v1/users/usr_01jh8x2v3kf6qz9w0c4m5t7r8y/2fa/reset', admin.accessToken)).statusCode).toBe(404);

    const reset = await call('POST', `/v1/users/${user.user.id}/2fa/reset`, admin.accessToken);
    expect(reset.statusCode).toBe(204);
    expect(await rows('SELECT 1 FROM totp_credentials WHERE user_id = $1', [user.user.id])).toHaveLength(0);
    expect(await rows('SELECT 1 FROM recovery_codes WHERE user_id = $1', [user.user.id])).toHaveLength(0);
    expect(warn).toHaveBeenCalledWith(
      { event: 'two_factor_reset', userId: user.user.id, byUserId: admin.user.id, byApiKeyId: undefined, hadTwoFactor: true },
      "Security: an ADMIN reset a user's two-factor login",
    );
    expect((await call('GET', '/v1/users/me', user.accessToken)).json().user.twoFactorEnabled).toBe(false);
    expect((await login(ctx.t.app, user.input.email)).body.requiredAuthenticatorType).toBeNull();
  });

  it('the hourly purge drops challenges expired over a day ago, and keeps the others', async () => {
    const user = await registerAndLogin(ctx.t.app);
    await enableTotp(ctx.t.app, user.accessToken);
    await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD);
    await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD);
    const [old] = await rows(
      "UPDATE two_factor_challenges SET expires_at = now() - interval '25 hours' WHERE id = (SELECT min(id) FROM two_factor_challenges WHERE user_id = $1) RETURNING id",
      [user.user.id],
    );
    await ctx.t.app.get(Retention).run('two-factor challenges expired over a day ago');
    const left = await rows('SELECT id FROM two_factor_challenges WHERE user_id = $1', [user.user.id]);
    expect(left).toHaveLength(1);
    expect(left[0].id).not.toBe(old.id);
  });
});
