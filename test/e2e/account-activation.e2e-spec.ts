import { afterAll, describe, expect, it } from 'vitest';
import { insertAccount } from '../factories/accounts';
import { registerInactiveAndLogin, registerUser } from '../factories/users';
import { linkIn, Mailbox } from '../helpers/mailbox';
import { useTestApp } from '../helpers/test-app';

const BASE = 'https://id.example.com';

/** Issue 22: activation works from the mail, with the token alone, once, without a login. */
describe('activate-account from the mailed link', () => {
  const mailbox = new Mailbox();
  afterAll(() => mailbox.stop());
  const ctx = useTestApp(async () => ({ env: { SMTP_URL: await mailbox.start(), PUBLIC_BASE_URL: BASE, RATE_LIMIT_ACCOUNT_ACTIVATE: '3/60' } }));

  const activate = (payload: unknown, remoteAddress: string) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/accounts/activate-account',
      remoteAddress,
      payload: JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    });
  const status = async (userId: string) =>
    (await ctx.db.query('SELECT u.status AS "user", a.status AS account FROM users u JOIN accounts a ON a.user_id = u.id WHERE u.id = $1', [userId])).rows[0];

  async function requestActivation(overrides: Record<string, unknown> = {}) {
    const session = await registerInactiveAndLogin(ctx.t.app, { language: 'tr', locale: 'tr-TR', timezone: 'Europe/Istanbul' });
    const request = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/accounts/account-activation-request',
      payload: JSON.stringify({
        userId: session.user.id,
        accountType: 'INDIVIDUAL',
        mobilePhone: '+905321234567',
        address: 'Moda Cd. 1, İstanbul',
        ...overrides,
      }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
    });
    expect(request.statusCode, request.body).toBe(201);
    const link = linkIn((await mailbox.waitFor(session.input.email)).at(-1)!);
    return { session, account: request.json().account as { id: string }, link };
  }

  it("mails a link to Gatehouse's own /activate page by default, in the user's language, whose token activates with no login", async () => {
    const { session, account, link } = await requestActivation();
    expect(`${link.origin}${link.pathname}`).toBe(`${BASE}/activate`);
    expect([...link.searchParams.keys()]).toEqual(['lang', 'emailVerificationToken']);
    expect(link.searchParams.get('lang')).toBe('tr');
    const token = link.searchParams.get('emailVerificationToken')!;
    expect(token.startsWith(`${account.id}.`)).toBe(true);
    const { rows } = await ctx.db.query('SELECT email_token_hash FROM accounts WHERE id = $1', [account.id]);
    expect(rows[0].email_token_hash).not.toContain(token.slice(account.id.length + 1));

    const activated = await activate({ emailVerificationToken: token }, '198.51.100.20');
    expect(activated.statusCode, activated.body).toBe(200);
    expect(activated.json().account).toMatchObject({ id: account.id, userId: session.user.id, status: 'ACTIVE', emailVerified: true });
    expect(await status(session.user.id)).toEqual({ user: 'ACTIVE', account: 'ACTIVE' });
  });

  it('of parallel uses of one token over HTTP exactly one succeeds; the others are 409 ACCOUNT_ALREADY_ACTIVE', async () => {
    const { session, link } = await requestActivation();
    const token = link.searchParams.get('emailVerificationToken')!;
    const results = await Promise.all(
      ['198.51.100.31', '198.51.100.32', '198.51.100.33', '198.51.100.34'].map((ip) => activate({ emailVerificationToken: token }, ip)),
    );
    expect(results.map((response) => response.statusCode).sort()).toEqual([200, 409, 409, 409]);
    for (const refused of results.filter((response) => response.statusCode === 409)) {
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.json().code).toBe('ACCOUNT_ALREADY_ACTIVE');
    }
    expect(await status(session.user.id)).toEqual({ user: 'ACTIVE', account: 'ACTIVE' });
  });

  it('refuses an expired token with 400 TOKEN_EXPIRED, a made-up one with 400 INVALID_TOKEN, and a missing one with a per-field 422; none writes', async () => {
    const account = await insertAccount(ctx.db, { emailTokenExpiresAt: new Date(Date.now() - 1000) });
    const expired = await activate({ emailVerificationToken: account.emailToken }, '198.51.100.40');
    expect(expired.statusCode).toBe(400);
    expect(expired.json().code).toBe('TOKEN_EXPIRED');
    const madeUp = await activate({ emailVerificationToken: `${account.id}.guessed` }, '198.51.100.41');
    expect(madeUp.statusCode).toBe(400);
    expect(madeUp.json().code).toBe('INVALID_TOKEN');
    const missing = await activate({ accountId: account.id }, '198.51.100.42');
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual([expect.objectContaining({ field: 'emailVerificationToken' })]);
    expect(await status(account.userId)).toEqual({ user: 'INACTIVE', account: 'PENDING' });
  });

  it('keeps a body that still sends userId and accountId working, and checks them', async () => {
    const account = await insertAccount(ctx.db);
    const other = await insertAccount(ctx.db);
    const mismatched = await activate({ userId: other.userId, accountId: account.id, emailVerificationToken: account.emailToken }, '198.51.100.50');
    expect(mismatched.json().code).toBe('INVALID_TOKEN');
    const legacy = await activate({ userId: account.userId, accountId: account.id, emailVerificationToken: account.emailSecret }, '198.51.100.51');
    expect(legacy.statusCode, legacy.body).toBe(200);
    expect(await status(account.userId)).toEqual({ user: 'ACTIVE', account: 'ACTIVE' });
    expect(await status(other.userId)).toEqual({ user: 'INACTIVE', account: 'PENDING' });
  });

  it('is rate limited per IP (RATE_LIMIT_ACCOUNT_ACTIVATE: 3 a minute here): the 4th guess is 429, another IP is not', async () => {
    const account = await insertAccount(ctx.db);
    for (let i = 0; i < 3; i++) expect((await activate({ emailVerificationToken: `${account.id}.guess-${i}` }, '198.51.100.60')).statusCode).toBe(400);
    const limited = await activate({ emailVerificationToken: account.emailToken }, '198.51.100.60');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
    expect(await status(account.userId)).toEqual({ user: 'INACTIVE', account: 'PENDING' });
    expect((await activate({ emailVerificationToken: account.emailToken }, '198.51.100.61')).statusCode).toBe(200);
  });

  it("mails a password-reset link to Gatehouse's own /reset-password page when the request names none", async () => {
    const { input } = await registerUser(ctx.t.app, { language: 'ar', locale: 'ar-SA', timezone: 'Asia/Riyadh' });
    const request = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/users/password-reset-request',
      payload: JSON.stringify({ email: input.email }),
      headers: { 'content-type': 'application/json' },
    });
    expect(request.statusCode).toBe(202);
    const link = linkIn((await mailbox.waitFor(input.email)).at(-1)!);
    expect(`${link.origin}${link.pathname}`).toBe(`${BASE}/reset-password`);
    expect(link.searchParams.get('lang')).toBe('ar');
    expect(link.searchParams.get('token')).toMatch(/^prt_[0-9a-z]+\..+/);
  });
});
