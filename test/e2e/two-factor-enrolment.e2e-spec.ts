import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../factories/db';
import { enableTotp, totpCode } from '../factories/two-factor';
import { registerAdmin, registerAndLogin, TEST_PASSWORD } from '../factories/users';
import { callerFor } from '../helpers/http';
import { Mailbox, mailsSettled } from '../helpers/mailbox';
import { signInThroughApp, TestOidcProvider } from '../helpers/oidc-provider';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';
const CALLBACK = 'http://localhost:3000/v1/auth/oidc/test/callback';
const SUBJECTS = {
  on: 'Two-factor login is on for your Gatehouse account',
  off: 'Two-factor login is off for your Gatehouse account',
  reset: 'An administrator switched off two-factor login for your Gatehouse account',
};

/** Issue 19, medium 2: a session alone (stolen, say) cannot put an authenticator on the account. */
describe('enrolling in 2FA needs the password, or a recent sign-in without one', () => {
  let provider: TestOidcProvider;
  beforeAll(async () => {
    provider = await TestOidcProvider.start(CALLBACK);
  });
  afterAll(() => provider?.close());
  const mailbox = new Mailbox();
  afterAll(() => mailbox.stop());
  const ctx = useTestApp(async () => ({ env: { ...provider.env('test'), ALLOWED_LINK_ORIGINS: APP, SMTP_URL: await mailbox.start() } }));

  const call = callerFor(ctx);
  const setup = (bearer: string, body: object) => call('POST', '/v1/auth/2fa/totp/setup', bearer, body);
  const confirm = (bearer: string, body: object) => call('POST', '/v1/auth/2fa/totp/confirm', bearer, body);
  const credential = async (userId: string) =>
    (await ctx.db.query('SELECT confirmed_at FROM totp_credentials WHERE user_id = $1', [userId])).rows as Array<{ confirmed_at: Date | null }>;
  const subjectsTo = async (email: string) => {
    await mailsSettled(ctx.t.app);
    return mailbox.to(email).map((mail) => mail.subject);
  };
  const expectProblem = (response: { statusCode: number; json(): { code: string } }, status: number, code: string) => {
    expect(response.statusCode).toBe(status);
    expect(response.json().code).toBe(code);
  };

  it('a session without the password can neither set up nor confirm; with it, 2FA goes on and the owner is mailed', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    // The thief holds a session of the owner's (here: another login), not the password.
    const thief = owner.accessToken;

    const noPassword = await setup(thief, {});
    expectProblem(noPassword, 422, 'VALIDATION_FAILED');
    expect(noPassword.json()).toMatchObject({ errors: [{ field: 'password', code: 'REQUIRED' }] });
    expectProblem(await setup(thief, { password: 'a guess at the password' }), 400, 'PASSWORD_INCORRECT');
    expect(await credential(owner.user.id)).toEqual([]);

    // The owner starts a setup; the thief cannot confirm it, even holding a right code.
    const { secret } = (await setup(owner.accessToken, { password: TEST_PASSWORD })).json<{ secret: string }>();
    expectProblem(await confirm(thief, { code: totpCode(secret) }), 422, 'VALIDATION_FAILED');
    expectProblem(await confirm(thief, { code: totpCode(secret), password: 'a guess at the password' }), 400, 'PASSWORD_INCORRECT');
    expect(await credential(owner.user.id)).toEqual([{ confirmed_at: null }]);
    expect(await subjectsTo(owner.input.email)).toEqual([]);

    const on = await confirm(owner.accessToken, { code: totpCode(secret), password: TEST_PASSWORD });
    expect(on.statusCode).toBe(200);
    expect(on.json().recoveryCodes).toHaveLength(10);
    expect((await credential(owner.user.id))[0]!.confirmed_at).not.toBeNull();
    expect(await subjectsTo(owner.input.email)).toEqual([SUBJECTS.on]);
  });

  it('switching 2FA off mails the owner, and so does an ADMIN resetting it', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { secret } = await enableTotp(ctx.t.app, user.accessToken);
    const off = await call('POST', '/v1/auth/2fa/disable', user.accessToken, { password: TEST_PASSWORD, code: totpCode(secret, 1) });
    expect(off.statusCode).toBe(204);
    // Sent after the response, each on its own: compared in any order.
    expect((await subjectsTo(user.input.email)).sort()).toEqual([SUBJECTS.on, SUBJECTS.off].sort());

    await enableTotp(ctx.t.app, user.accessToken);
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    expect((await call('POST', `/v1/users/${user.user.id}/2fa/reset`, admin.accessToken)).statusCode).toBe(204);
    expect((await subjectsTo(user.input.email)).sort()).toEqual([SUBJECTS.on, SUBJECTS.off, SUBJECTS.on, SUBJECTS.reset].sort());
    // A reset of a user without 2FA changes nothing, and tells nobody.
    expect((await call('POST', `/v1/users/${user.user.id}/2fa/reset`, admin.accessToken)).statusCode).toBe(204);
    expect(await subjectsTo(user.input.email)).toHaveLength(4);
  });

  it('a user without a password enrols within 5 minutes of signing in through its provider; a staler login, even refreshed, is refused', async () => {
    const email = `oidc-only-${unique()}@example.com`;
    const fresh = await signInThroughApp(ctx.t.app, provider, { sub: `sub-${unique()}`, email, email_verified: true }, `${APP}/signed-in`);
    const token = fresh.cookies.gatehouse_auth!;
    const { rows } = await ctx.db.query('SELECT id, password_hash FROM users WHERE email = $1', [email]);
    expect(rows).toEqual([{ id: expect.any(String), password_hash: null }]);
    const userId = rows[0].id as string;

    // Just signed in: no password to give, none needed.
    const { secret } = (await setup(token, {})).json<{ secret: string }>();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // A password it does not have is wrong, as everywhere.
    expectProblem(await setup(token, { password: 'any password' }), 400, 'PASSWORD_INCORRECT');

    // Six minutes later, and refreshed meanwhile: the login is as old as its first token.
    await ctx.db.query("UPDATE refresh_tokens SET created_at = now() - interval '6 minutes' WHERE user_id = $1", [userId]);
    const refreshed = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ refreshToken: fresh.cookies.gatehouse_auth_refresh }),
    });
    expect(refreshed.statusCode).toBe(200);
    const stale = refreshed.json().accessToken.token as string;
    expectProblem(await setup(stale, {}), 403, 'REAUTHENTICATION_REQUIRED');
    expectProblem(await confirm(stale, { code: totpCode(secret) }), 403, 'REAUTHENTICATION_REQUIRED');
    expect(await credential(userId)).toEqual([{ confirmed_at: null }]);

    // Signing in again makes a fresh login that may finish the enrolment.
    const again = await signInThroughApp(ctx.t.app, provider, { sub: `sub-${unique()}`, email, email_verified: true }, `${APP}/signed-in`);
    const on = await confirm(again.cookies.gatehouse_auth!, { code: totpCode(secret) });
    expect(on.statusCode, on.body).toBe(200);
    expect(await subjectsTo(email)).toContain(SUBJECTS.on);
  });
});
