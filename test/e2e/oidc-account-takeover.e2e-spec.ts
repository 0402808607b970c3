import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { insertApiKey } from '../factories/api-keys';
import { userIdentities } from '../../src/db/schema';
import { orm, unique } from '../factories/db';
import { insertUser, login, registerUser, TEST_PASSWORD } from '../factories/users';
import { callerFor } from '../helpers/http';
import { Mailbox, mailsSettled } from '../helpers/mailbox';
import { signInThroughApp, TestOidcAccount, TestOidcProvider } from '../helpers/oidc-provider';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';
const REDIRECT = `${APP}/signed-in`;
const CALLBACK = 'http://localhost:3000/v1/auth/oidc/test/callback';
const LINKED_SUBJECT = 'A new way to sign in to your Gatehouse account';

/** Issue 19, medium 1: a provider sign-in links only to a verified user, and never hands over someone else's row as it is. */
describe('OIDC sign-in and accounts it did not create', () => {
  let provider: TestOidcProvider;
  beforeAll(async () => {
    provider = await TestOidcProvider.start(CALLBACK);
  });
  afterAll(() => provider?.close());
  const mailbox = new Mailbox();
  afterAll(() => mailbox.stop());
  const ctx = useTestApp(async () => ({ env: { ...provider.env('test'), ALLOWED_LINK_ORIGINS: APP, SMTP_URL: await mailbox.start() } }));
  afterEach(() => vi.restoreAllMocks());

  const call = callerFor(ctx);
  const post = (url: string, payload: unknown) =>
    ctx.t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  const settle = () => mailsSettled(ctx.t.app);
  const person = (email: string): TestOidcAccount => ({ sub: `sub-${unique()}`, email, email_verified: true, given_name: 'Vic', family_name: 'Tim' });
  const signIn = (account: TestOidcAccount) => signInThroughApp(ctx.t.app, provider, account, REDIRECT);
  const rows = async (sql: string, params: unknown[]) => (await ctx.db.query(sql, params)).rows;

  it("an attacker's unverified registration of the victim's email is reclaimed by the victim's verified sign-in: its password, logins, keys, resets and 2FA are gone", async () => {
    const victim = `victim-${unique()}@example.com`;
    // The attacker registers the victim's address with a password of their own; it stays INACTIVE.
    const attacker = await registerUser(ctx.t.app, { email: victim, password: 'attacker-chosen passphrase 1' });
    const attackerLogin = await login(ctx.t.app, victim, 'attacker-chosen passphrase 1');
    const key = await insertApiKey(ctx.db, { ownerId: attacker.user.id });
    expect((await post('/v1/users/password-reset-request', { email: victim, resetPageLink: `${APP}/reset` })).statusCode).toBe(202);
    await settle();
    await ctx.db.query("INSERT INTO totp_credentials (user_id, secret_sealed, confirmed_at) VALUES ($1, 'v1.x.y.z', now())", [attacker.user.id]);
    expect(await rows('SELECT status, email_verified_at FROM users WHERE id = $1', [attacker.user.id])).toEqual([
      { status: 'INACTIVE', email_verified_at: null },
    ]);

    const warn = vi.spyOn(Logger.prototype, 'warn');
    const { response, cookies } = await signIn(person(victim));

    // The victim is signed in at once: no second factor of the attacker's stands in the way.
    expect(response.statusCode, response.body).toBe(302);
    expect(response.headers.location).toBe(REDIRECT);
    const me = await call('GET', '/v1/users/me', cookies.gatehouse_auth!);
    expect(me.json().user).toMatchObject({ id: attacker.user.id, email: victim, status: 'ACTIVE', twoFactorEnabled: false });
    const [row] = await rows('SELECT password_hash, email_verified_at FROM users WHERE id = $1', [attacker.user.id]);
    expect(row.password_hash).toBeNull();
    expect(row.email_verified_at).not.toBeNull();

    // Every way in the attacker had is closed.
    const password = await post('/v1/auth/login', { email: victim, password: 'attacker-chosen passphrase 1' });
    expect(password.statusCode).toBe(401);
    expect(password.json().code).toBe('INVALID_CREDENTIALS');
    expect((await post('/v1/auth/refresh', { refreshToken: attackerLogin.refreshToken })).statusCode).toBe(401);
    expect((await call('GET', '/v1/users/me', attackerLogin.accessToken)).json().code).toBe('SESSION_REVOKED');
    expect((await call('GET', '/v1/users/me', key.key)).statusCode).toBe(401);
    expect((await rows('SELECT revoked_at FROM api_keys WHERE id = $1', [key.id]))[0].revoked_at).not.toBeNull();
    expect(await rows('SELECT 1 FROM password_reset_tokens WHERE user_id = $1 AND used_at IS NULL', [attacker.user.id])).toEqual([]);
    expect(await rows('SELECT 1 FROM totp_credentials WHERE user_id = $1', [attacker.user.id])).toEqual([]);
    // The one live login is the victim's.
    expect(await rows('SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [attacker.user.id])).toEqual([{ n: 1 }]);
    expect(await rows('SELECT provider FROM user_identities WHERE user_id = $1', [attacker.user.id])).toEqual([{ provider: 'test' }]);

    expect(warn).toHaveBeenCalledWith(
      { event: 'account_reclaimed', userId: attacker.user.id, provider: 'test', wasStatus: 'INACTIVE', hadPassword: true, revokedApiKeys: 1 },
      expect.stringContaining('reclaimed'),
    );

    // The email's owner is told that a way in was linked.
    await settle();
    const linked = mailbox.to(victim).filter((mail) => mail.subject === LINKED_SUBJECT);
    expect(linked).toHaveLength(1);
    expect(linked[0]!.text).toContain(`through test (${victim})`);
  });

  it('a user whose email is verified is linked as it is (its password and keys keep working), and mailed; a new user is not mailed', async () => {
    const existing = await insertUser(ctx.db, { emailVerifiedAt: new Date() });
    const key = await insertApiKey(ctx.db, { ownerId: existing.id });
    const { response, cookies } = await signIn(person(existing.email));
    expect(response.headers.location).toBe(REDIRECT);
    expect((await call('GET', '/v1/users/me', cookies.gatehouse_auth!)).json().user.id).toBe(existing.id);
    await login(ctx.t.app, existing.email, TEST_PASSWORD);
    expect((await call('GET', '/v1/users/me', key.key)).statusCode).toBe(200);
    await settle();
    expect(mailbox.to(existing.email).map((mail) => mail.subject)).toEqual([LINKED_SUBJECT]);

    // Signing in again with the same identity links nothing new: no second mail.
    const again = await signIn({
      ...person(existing.email),
      sub: (await rows('SELECT subject FROM user_identities WHERE user_id = $1', [existing.id]))[0].subject,
    });
    expect(again.response.headers.location).toBe(REDIRECT);
    const brandNew = `new-${unique()}@example.com`;
    expect((await signIn(person(brandNew))).response.headers.location).toBe(REDIRECT);
    await settle();
    expect(mailbox.to(existing.email)).toHaveLength(1);
    expect(mailbox.to(brandNew)).toEqual([]);
  });

  it('an identity linked earlier to a row that was never verified reclaims it at its next sign-in', async () => {
    const unverified = await insertUser(ctx.db, { status: 'INACTIVE' });
    const account = person(unverified.email);
    await orm(ctx.db).insert(userIdentities).values({ userId: unverified.id, provider: 'test', subject: account.sub, email: unverified.email });
    const { response } = await signIn(account);
    expect(response.headers.location).toBe(REDIRECT);
    expect(await rows('SELECT status, password_hash FROM users WHERE id = $1', [unverified.id])).toEqual([{ status: 'ACTIVE', password_hash: null }]);
    expect((await post('/v1/auth/login', { email: unverified.email, password: unverified.password })).statusCode).toBe(401);
  });
});
