import { Logger } from '@nestjs/common';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MailService } from '../../src/common/mail/mail.service';
import { TransactionRunner } from '../../src/db/transaction';
import { registerInactiveAndLogin, registerUser, userInput } from '../factories/users';
import { linkIn, Mailbox, mailsSettled } from '../helpers/mailbox';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';
const json = { 'content-type': 'application/json' };
const CAP = 3;

/**
 * Issue 20, scenario 6: password-reset and register floods. Per IP, each route's own limit answers
 * 429 with Retry-After. Per address, whatever the IPs, at most MAIL_MAX_PER_ADDRESS_PER_HOUR reset
 * and activation mails are queued in an hour, counted exactly in SQL; the reset request still
 * answers as always, so nobody learns whether the email has an account.
 */
describe('floods: 429 per IP, and a cap on mails per address per hour', () => {
  const mailbox = new Mailbox();
  afterAll(() => mailbox.stop());
  const ctx = useTestApp(async () => ({
    env: {
      SMTP_URL: await mailbox.start(),
      ALLOWED_LINK_ORIGINS: APP,
      RATE_LIMIT_PASSWORD_RESET_REQUEST: '5/60',
      RATE_LIMIT_REGISTER: '5/60',
      MAIL_MAX_PER_ADDRESS_PER_HOUR: String(CAP),
    },
  }));

  const post = (url: string, payload: unknown, remoteAddress = '198.51.100.1', bearer?: string) =>
    ctx.t.app.inject({
      method: 'POST',
      url,
      remoteAddress,
      payload: JSON.stringify(payload),
      headers: { ...json, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    });
  const resetFrom = (email: string, ip: string) => post('/v1/users/password-reset-request', { email, resetPageLink: `${APP}/reset` }, ip);
  const queuedTo = async (email: string) =>
    (await ctx.db.query('SELECT template FROM outbound_mails WHERE lower(recipient) = lower($1)', [email])).rows.map(
      (row: { template: string }) => row.template,
    );
  const tokensOf = async (email: string) =>
    (await ctx.db.query('SELECT count(*)::int AS n FROM password_reset_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = $1', [email])).rows[0]
      .n as number;

  it('a password-reset flood from one IP gets 429 with Retry-After after the 5th request of the minute', async () => {
    const { input } = await registerUser(ctx.t.app);
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await resetFrom(input.email, '198.51.100.20'));
    expect(answers.map((answer) => answer.statusCode)).toEqual([202, 202, 202, 202, 202, 429, 429]);
    const limited = answers[5]!;
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', retryAfter: Number(limited.headers['retry-after']) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('a register flood from one IP gets 429 with Retry-After after the 5th request of the minute, and creates 5 users', async () => {
    const inputs = Array.from({ length: 7 }, () => userInput());
    const answers = [];
    for (const input of inputs) answers.push(await post('/v1/auth/register', input, '198.51.100.21'));
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 201, 201, 201, 429, 429]);
    expect(Number(answers[6]!.headers['retry-after'])).toBeGreaterThan(0);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM users WHERE email = ANY($1)', [inputs.map((input) => input.email)]);
    expect(rows[0].n).toBe(5);
  });

  it('resets for one address from 20 IPs at once queue exactly MAIL_MAX_PER_ADDRESS_PER_HOUR mails; every request answers 202 alike', async () => {
    const { input } = await registerUser(ctx.t.app);
    const warn = vi.spyOn(Logger.prototype, 'warn');
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => resetFrom(input.email, `203.0.113.${i + 1}`)));
      expect(new Set(answers.map((answer) => `${answer.statusCode} ${answer.body}`))).toEqual(new Set(['202 {"accepted":true}']));
      await mailsSettled(ctx.t.app);
      expect(await queuedTo(input.email)).toEqual(Array(CAP).fill('passwordReset'));
      // No mail, no token: a token nobody was sent is of no use to anyone.
      expect(await tokensOf(input.email)).toBe(CAP);
      expect(mailbox.to(input.email)).toHaveLength(CAP);
      // Logged at warn without the address in clear: a keyed hash of it.
      const capped = warn.mock.calls.filter(([fields]) => (fields as { event?: string }).event === 'mail_cap_reached');
      expect(capped).toHaveLength(20 - CAP);
      expect(capped[0]![0]).toMatchObject({ template: 'passwordReset', recipient: expect.stringMatching(/^v\d+\.[0-9a-f]{64}$/) });
      expect(JSON.stringify(capped)).not.toContain(input.email.toLowerCase());
    } finally {
      warn.mockRestore();
    }
  });

  it('an unknown address answers the same, and queues nothing', async () => {
    const email = `nobody-${Date.now()}@example.com`;
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => resetFrom(email, `203.0.113.${100 + i}`)));
    expect(answers.map((answer) => `${answer.statusCode} ${answer.body}`)).toEqual(Array(4).fill('202 {"accepted":true}'));
    await mailsSettled(ctx.t.app);
    expect(await queuedTo(email)).toEqual([]);
  });

  it('the cap counts reset and activation mails together; past it, the activation request answers 429 with Retry-After and changes nothing', async () => {
    const session = await registerInactiveAndLogin(ctx.t.app);
    const email = session.input.email;
    const activation = (company: string) =>
      post(
        '/v1/accounts/account-activation-request',
        {
          userId: session.user.id,
          accountType: 'CORPORATE',
          company,
          mobilePhone: '+905321234567',
          address: 'Moda Cd. 1',
          activationPageLink: `${APP}/activate`,
        },
        '198.51.100.30',
        session.accessToken,
      );
    expect((await resetFrom(email, '198.51.100.31')).statusCode).toBe(202);
    await mailsSettled(ctx.t.app);
    expect((await activation('First')).statusCode).toBe(201);
    expect((await activation('Second')).statusCode).toBe(200);
    const refused = await activation('Third');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3_500);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
    await mailsSettled(ctx.t.app);
    expect((await queuedTo(email)).sort()).toEqual(['accountActivation', 'accountActivation', 'passwordReset']);
    // Nothing changed: the account is as the second request left it, and its mailed link still works.
    expect((await ctx.db.query('SELECT company FROM accounts WHERE user_id = $1', [session.user.id])).rows).toEqual([{ company: 'Second' }]);
    // The two activation mails may arrive in either order (they are sent concurrently): the second
    // request's link activates, the first's was replaced by it.
    const links = mailbox
      .to(email)
      .filter((mail) => mail.subject.startsWith('Activate'))
      .map((mail) => linkIn(mail));
    expect(links).toHaveLength(2);
    const statuses: number[] = [];
    for (const link of links) {
      const answer = await post(
        '/v1/accounts/activate-account',
        { emailVerificationToken: link.searchParams.get('emailVerificationToken') },
        '198.51.100.30',
        session.accessToken,
      );
      statuses.push(answer.statusCode);
    }
    expect(statuses.sort()).toEqual([200, 400]);
  });

  it('the window slides: an hour after the oldest counted mail, one more is queued; other mails are never held back by the cap', async () => {
    const { input } = await registerUser(ctx.t.app);
    for (let i = 0; i < CAP + 1; i++) await resetFrom(input.email, `198.51.100.${40 + i}`);
    await mailsSettled(ctx.t.app);
    expect(await queuedTo(input.email)).toHaveLength(CAP);

    // A security notice to the same address still goes out.
    const notice = await ctx.t.app
      .get(TransactionRunner)
      .run((tx) => ctx.t.app.get(MailService).queue(tx, { email: input.email, language: 'en' }, 'twoFactorEnabled', { name: 'Ada' }));
    expect(notice).toEqual({ queued: true });

    await ctx.db.query(
      "UPDATE outbound_mails SET created_at = created_at - interval '61 minutes' WHERE id = (SELECT id FROM outbound_mails WHERE lower(recipient) = lower($1) AND template = 'passwordReset' ORDER BY created_at LIMIT 1)",
      [input.email],
    );
    await resetFrom(input.email, '198.51.100.50');
    await resetFrom(input.email, '198.51.100.51');
    await mailsSettled(ctx.t.app);
    expect((await queuedTo(input.email)).filter((template) => template === 'passwordReset')).toHaveLength(CAP + 1);
  });
});
