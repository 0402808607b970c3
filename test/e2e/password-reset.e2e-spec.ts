import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { login, registerAndLogin, registerUser, TEST_PASSWORD } from '../factories/users';
import { linkIn, Mailbox, mailsSettled } from '../helpers/mailbox';
import { useTestApp } from '../helpers/test-app';

const RESET_PAGE = 'https://app.example.com/reset-password';
const json = { 'content-type': 'application/json' };

describe('password reset', () => {
  const mailbox = new Mailbox();
  // Registered first, so it runs last: after the app has closed (after-hooks run in reverse).
  afterAll(() => mailbox.stop());
  const ctx = useTestApp(async () => ({ env: { SMTP_URL: await mailbox.start(), ALLOWED_LINK_ORIGINS: 'https://app.example.com' } }));

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    ctx.t.app.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { ...json, ...headers } });
  const settle = () => mailsSettled(ctx.t.app);

  async function requestReset(email: string) {
    const response = await post('/v1/users/password-reset-request', { email, resetPageLink: RESET_PAGE });
    expect(response.statusCode).toBe(202);
    await settle();
    return response;
  }

  it('mails a single-use link; the reset ends every session and replaces the password', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const email = session.input.email;
    const response = await requestReset(email);
    expect(response.json()).toEqual({ accepted: true });

    const [mail] = await mailbox.waitFor(email);
    expect(mail?.subject).toBe('Reset your Gatehouse password');
    const link = linkIn(mail!);
    expect(`${link.origin}${link.pathname}`).toBe(RESET_PAGE);
    const token = link.searchParams.get('token')!;
    const secret = token.split('.')[1]!;
    expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(32);

    const { rows } = await ctx.db.query('SELECT token_hash FROM password_reset_tokens WHERE user_id = $1', [session.user.id]);
    expect(rows).toEqual([{ token_hash: createHash('sha256').update(secret).digest('hex') }]);

    const newPassword = 'a brand new passphrase 42';
    expect((await post('/v1/users/password-reset', { token, newPassword })).statusCode).toBe(204);

    const oldLogin = await post('/v1/auth/login', { email, password: TEST_PASSWORD });
    expect(oldLogin.statusCode).toBe(401);
    await login(ctx.t.app, email, newPassword);
    const refresh = await post('/v1/auth/refresh', { refreshToken: session.refreshToken });
    expect(refresh.statusCode).toBe(401);

    const again = await post('/v1/users/password-reset', { token, newPassword: 'yet another passphrase 43' });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('INVALID_TOKEN');
  });

  it('#2: a password reset also ends the access tokens of every session, at once', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const me = () => ctx.t.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${session.accessToken}` } });
    expect((await me()).statusCode).toBe(200);
    await requestReset(session.input.email);
    const token = linkIn((await mailbox.waitFor(session.input.email))[0]!).searchParams.get('token')!;
    expect((await post('/v1/users/password-reset', { token, newPassword: 'a brand new passphrase 44' })).statusCode).toBe(204);
    const after = await me();
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('SESSION_REVOKED');
  });

  it('#3: a password reset clears the failed-login counters of the email, from every IP', async () => {
    const { input, user } = await registerUser(ctx.t.app);
    const email = input.email.toLowerCase();
    await ctx.db.query(
      "INSERT INTO login_failures VALUES ($1, 50, now() + interval '10 minutes'), ($2, 50, now() + interval '10 minutes'), ($3, 50, now() + interval '10 minutes')",
      [`email:${email}`, `email-ip:${email}|ip:198.51.100.1`, 'email:someone-else@example.com'],
    );
    await requestReset(input.email);
    const token = linkIn((await mailbox.waitFor(input.email))[0]!).searchParams.get('token')!;
    expect((await post('/v1/users/password-reset', { token, newPassword: 'a brand new passphrase 45' })).statusCode).toBe(204);
    const { rows } = await ctx.db.query("SELECT key FROM login_failures WHERE key LIKE '%' || $1 || '%' OR key = 'email:someone-else@example.com'", [email]);
    expect(rows).toEqual([{ key: 'email:someone-else@example.com' }]);
    const relogin = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      remoteAddress: '198.51.100.1',
      headers: json,
      payload: JSON.stringify({ email: input.email, password: 'a brand new passphrase 45' }),
    });
    expect(relogin.statusCode).toBe(200);
    expect(user.id).toBe(relogin.json().user.id);
  });

  it('answers the same for an unknown email, and sends nothing', async () => {
    const before = mailbox.mails.length;
    const known = await registerUser(ctx.t.app);
    const a = await requestReset(known.input.email);
    const b = await requestReset('nobody-at-all@example.com');
    expect(b.json()).toEqual(a.json());
    expect(b.headers['content-type']).toBe(a.headers['content-type']);
    await mailbox.waitFor(known.input.email);
    expect(mailbox.mails.length).toBe(before + 1);
    const queued = await ctx.db.query('SELECT lower(recipient) AS recipient FROM outbound_mails WHERE lower(recipient) IN (lower($1), $2)', [
      known.input.email,
      'nobody-at-all@example.com',
    ]);
    expect(queued.rows).toEqual([{ recipient: known.input.email.toLowerCase() }]);
    expect(mailbox.to('nobody-at-all@example.com')).toHaveLength(0);
  });

  it('refuses a reset page outside ALLOWED_LINK_ORIGINS with 422 on that field', async () => {
    const response = await post('/v1/users/password-reset-request', { email: 'a@example.com', resetPageLink: 'https://evil.example/reset' });
    expect(response.statusCode).toBe(422);
    expect(response.json().errors).toEqual([
      { field: 'resetPageLink', code: 'LINK_ORIGIN_NOT_ALLOWED', message: 'Links must point to an allowed origin: https://app.example.com' },
    ]);
    // Issue 22: the allowed origins are named in every language.
    const turkish = await post(
      '/v1/users/password-reset-request',
      { email: 'a@example.com', resetPageLink: 'https://evil.example/reset' },
      { 'accept-language': 'tr' },
    );
    expect(turkish.json().errors[0].message).toBe('Bağlantılar izin verilen bir kaynağa yönlenmelidir: https://app.example.com');
  });

  it('answers an expired token with 400 TOKEN_EXPIRED and a made-up one with INVALID_TOKEN', async () => {
    const { input, user } = await registerUser(ctx.t.app);
    await requestReset(input.email);
    const token = linkIn((await mailbox.waitFor(input.email))[0]!).searchParams.get('token')!;
    await ctx.db.query("UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [user.id]);
    const expired = await post('/v1/users/password-reset', { token, newPassword: 'fresh passphrase 12345' });
    expect(expired.statusCode).toBe(400);
    expect(expired.json().code).toBe('TOKEN_EXPIRED');
    const forged = await post('/v1/users/password-reset', { token: `${token.split('.')[0]}.AAAA`, newPassword: 'fresh passphrase 12345' });
    expect(forged.json().code).toBe('INVALID_TOKEN');
    await login(ctx.t.app, input.email);
  });

  it("writes the mail in the user's language", async () => {
    const { input } = await registerUser(ctx.t.app, { language: 'tr', locale: 'tr-TR', timezone: 'Europe/Istanbul' });
    await requestReset(input.email);
    expect((await mailbox.waitFor(input.email))[0]?.subject).toBe('Gatehouse parolanızı sıfırlayın');
  });
});
