import { Logger } from '@nestjs/common';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { registerInactiveAndLogin, registerUser } from '../factories/users';
import { FaultySmtp } from '../helpers/faulty-smtp';
import { linkIn, Mailbox } from '../helpers/mailbox';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';
const json = { 'content-type': 'application/json' };

/**
 * Issue 20, measured items 5 and 6: SMTP sat on the request path without timeouts (the activation
 * request waited 30 s and answered 502; against a server that stalls after its greeting it never
 * answered), and fire-and-forget mails were lost when the send failed. Real TCP servers stand in
 * for the faults, one after the other on one port (the app's SMTP_URL never changes).
 */
describe('mail through the outbox: an SMTP outage holds no request and loses no mail', () => {
  let smtp: FaultySmtp | undefined;
  let port = 0;
  const mailbox = new Mailbox();
  afterAll(async () => {
    await smtp?.close();
    await mailbox.stop();
  });
  const ctx = useTestApp(async () => {
    smtp = await FaultySmtp.start('silent');
    port = smtp.port;
    return {
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        ALLOWED_LINK_ORIGINS: APP,
        SMTP_CONNECTION_TIMEOUT_MS: '300',
        SMTP_GREETING_TIMEOUT_MS: '300',
        SMTP_SOCKET_TIMEOUT_MS: '300',
        SMTP_SEND_TIMEOUT_MS: '600',
        MAIL_RETRY_BASE_MS: '100',
        MAIL_RETRY_MAX_MS: '200',
      },
    };
  });

  const post = (url: string, payload: unknown, bearer?: string) =>
    ctx.t.app.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { ...json, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } });
  const requestActivation = (session: { accessToken: string; user: { id: string } }) =>
    post(
      '/v1/accounts/account-activation-request',
      {
        userId: session.user.id,
        accountType: 'INDIVIDUAL',
        mobilePhone: '+905321234567',
        address: 'Moda Cd. 1, İstanbul',
        activationPageLink: `${APP}/activate`,
      },
      session.accessToken,
    );
  const rows = async () =>
    (await ctx.db.query('SELECT lower(recipient) AS recipient, template, status, attempt_count, last_error FROM outbound_mails ORDER BY created_at'))
      .rows as Array<{
      recipient: string;
      template: string;
      status: string;
      attempt_count: number;
      last_error: string | null;
    }>;
  /** Every mail has made `more` attempts beyond `before`, each failed with `error`. */
  const attemptedAgain = async (before: Map<string, number>, error: RegExp) =>
    vi.waitFor(
      async () => {
        for (const row of await rows()) {
          expect(row.status).toBe('PENDING');
          expect(row.attempt_count).toBeGreaterThan(before.get(row.recipient + row.template) ?? 0);
          expect(row.last_error).toMatch(error);
        }
      },
      { timeout: 10_000, interval: 50 },
    );
  const counts = async () => new Map((await rows()).map((row) => [row.recipient + row.template, row.attempt_count]));

  it('answers the activation request (201) and the reset request (202) at once against a silent server, a stalling one and none; every mail arrives once when SMTP is back', async () => {
    const activating = await Promise.all([registerInactiveAndLogin(ctx.t.app), registerInactiveAndLogin(ctx.t.app)]);
    const resetting = await Promise.all([registerUser(ctx.t.app), registerUser(ctx.t.app), registerUser(ctx.t.app)]);

    // A server that accepts connections and never says a word.
    for (const session of activating) {
      const started = Date.now();
      const response = await requestActivation(session);
      expect(response.statusCode, response.body).toBe(201);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
    for (const { input } of resetting)
      expect((await post('/v1/users/password-reset-request', { email: input.email, resetPageLink: `${APP}/reset` })).statusCode).toBe(202);
    await vi.waitFor(async () => expect(await rows()).toHaveLength(5));
    await attemptedAgain(new Map(), /^TIMEOUT|ETIMEDOUT/);
    expect(smtp!.connections).toBeGreaterThanOrEqual(5);

    // A server that greets, then never answers EHLO.
    await smtp!.close();
    smtp = await FaultySmtp.start('stall', port);
    const third = await registerInactiveAndLogin(ctx.t.app);
    const started = Date.now();
    expect((await requestActivation(third)).statusCode).toBe(201);
    expect(Date.now() - started).toBeLessThan(2_000);
    await attemptedAgain(await counts(), /^TIMEOUT|ETIMEDOUT/);
    expect(smtp.connections).toBeGreaterThan(0);

    // Nothing listening: connections are refused.
    await smtp.close();
    smtp = undefined;
    await attemptedAgain(await counts(), /ECONNREFUSED|ECONNECTION|ESOCKET/);

    // SMTP is back: each mail arrives, once.
    await mailbox.start(port);
    const recipients = [...activating, third].map((session) => session.input.email).concat(resetting.map(({ input }) => input.email));
    for (const email of recipients) await mailbox.waitFor(email, 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const email of recipients) expect(mailbox.to(email)).toHaveLength(1);
    expect(mailbox.mails).toHaveLength(6);
    for (const row of await rows()) expect(row).toMatchObject({ status: 'SENT', last_error: null });
    expect(Math.min(...(await rows()).map((row) => row.attempt_count))).toBeGreaterThanOrEqual(3);

    // The links still work: the tokens were kept with the mails.
    const link = linkIn(mailbox.to(activating[0].input.email)[0]!);
    const activated = await post(
      '/v1/accounts/activate-account',
      { emailVerificationToken: link.searchParams.get('emailVerificationToken') },
      activating[0].accessToken,
    );
    expect(activated.statusCode, activated.body).toBe(200);
    const token = linkIn(mailbox.to(resetting[0].input.email)[0]!).searchParams.get('token');
    expect((await post('/v1/users/password-reset', { token, newPassword: 'a brand new passphrase 46' })).statusCode).toBe(204);
  }, 60_000);

  // SMTP is up again since the test above.
  it('keeps the parameters sealed at rest, and logs neither the link nor the address of a failing mail', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const error = vi.spyOn(Logger.prototype, 'error');
    try {
      const { input } = await registerUser(ctx.t.app);
      mailbox.refused.add(input.email.toLowerCase());
      expect((await post('/v1/users/password-reset-request', { email: input.email, resetPageLink: `${APP}/reset` })).statusCode).toBe(202);
      await vi.waitFor(
        async () => {
          const { rows: found } = await ctx.db.query('SELECT status FROM outbound_mails WHERE lower(recipient) = lower($1)', [input.email]);
          expect(found).toEqual([{ status: 'FAILED' }]);
        },
        { timeout: 5_000, interval: 50 },
      );
      const { rows: sealed } = await ctx.db.query('SELECT params_sealed, attempt_count, last_error FROM outbound_mails WHERE lower(recipient) = lower($1)', [
        input.email,
      ]);
      // A 550 (no such mailbox) is final: one attempt, then the dead letter.
      expect(sealed[0]).toMatchObject({ attempt_count: 1, last_error: expect.stringMatching(/550/) });
      expect(sealed[0].params_sealed).not.toContain(APP);
      expect(sealed[0].params_sealed).toMatch(/^v\d+\./);
      const { rows: tokens } = await ctx.db.query('SELECT t.id FROM password_reset_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = $1', [
        input.email,
      ]);
      expect(tokens).toHaveLength(1);
      const logged = JSON.stringify([...warn.mock.calls, ...error.mock.calls]);
      expect(logged).toContain('mail_attempt_failed');
      expect(logged).not.toContain(input.email.toLowerCase());
      expect(logged).not.toContain(tokens[0].id);
      expect(logged).not.toContain(APP);
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
  });
});
