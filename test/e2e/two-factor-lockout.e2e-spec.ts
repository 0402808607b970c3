import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock';
import { enableTotp, loginForChallenge, totpCode, wrongCode } from '../factories/two-factor';
import { registerAndLogin, TEST_PASSWORD } from '../factories/users';
import { callerFor } from '../helpers/http';
import { Mailbox, mailsSettled } from '../helpers/mailbox';
import { useTestApp } from '../helpers/test-app';

const json = { 'content-type': 'application/json' };
const MINUTE = 60_000;
const LOCKED_SUBJECT = 'Your Gatehouse two-factor login is locked';

/**
 * Issue 19, medium 3: wrong second factors are counted per user across challenges, since a correct
 * password hands out a fresh challenge (and 5 more tries) each time. Low 9: recovery codes keyed.
 */
describe('two-factor lockout across challenges', () => {
  const mailbox = new Mailbox();
  afterAll(() => mailbox.stop());
  const ctx = useTestApp(async () => ({ env: { SMTP_URL: await mailbox.start() } }));
  afterEach(() => vi.restoreAllMocks());
  const call = callerFor(ctx);

  const verify = (challenge: string, factor: { code: string } | { recoveryCode: string }) =>
    ctx.t.app.inject({ method: 'POST', url: '/v1/auth/2fa/verify', headers: json, payload: JSON.stringify({ challenge, ...factor }) });
  const challengeFor = (email: string) => loginForChallenge(ctx.t.app, email, TEST_PASSWORD);
  /** The app's clock `ms` from now; codes are then computed for that moment, as the phone would show them. */
  const moveClock = (ms: number) => vi.spyOn(ctx.t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + ms));
  const codeAt = (secret: string, ms: number) => totpCode(secret, Math.round(ms / 30_000));
  const lockState = async (userId: string) =>
    (await ctx.db.query('SELECT failed_attempts, lockouts, locked_until FROM totp_credentials WHERE user_id = $1', [userId])).rows[0];
  const lockedMails = async (email: string) => {
    await mailsSettled(ctx.t.app);
    return mailbox.to(email).filter((mail) => mail.subject === LOCKED_SUBJECT);
  };

  it('60 wrong codes over 12 challenges lock the second step; the right code is refused until the lockout ends, then accepted', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const user = await registerAndLogin(ctx.t.app);
    const { secret, recoveryCodes } = await enableTotp(ctx.t.app, user.accessToken);

    const answers: string[] = [];
    for (let round = 0; round < 12; round++) {
      const challenge = await challengeFor(user.input.email);
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await verify(challenge, { code: wrongCode(secret) });
        answers.push(`${response.statusCode} ${response.json().code}`);
      }
    }
    // Nine refused as wrong; the tenth locks; the other fifty are refused unjudged.
    expect(answers.slice(0, 9)).toEqual(Array(9).fill('400 TWO_FACTOR_CODE_INVALID'));
    expect(answers.slice(9)).toEqual(Array(51).fill('429 TWO_FACTOR_LOCKED'));
    const locked = await lockState(user.user.id);
    expect(locked).toMatchObject({ failed_attempts: 0, lockouts: 1 });
    expect(locked.locked_until.getTime() - Date.now()).toBeGreaterThan(14 * MINUTE);
    expect(locked.locked_until.getTime() - Date.now()).toBeLessThanOrEqual(15 * MINUTE);

    // The right code, a recovery code, and switching 2FA off with the password and a code: all refused while locked.
    const right = await verify(await challengeFor(user.input.email), { code: totpCode(secret, 1) });
    expect(right.statusCode).toBe(429);
    expect(right.json()).toMatchObject({ code: 'TWO_FACTOR_LOCKED', retryAfter: expect.any(Number) });
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(14 * 60);
    expect(right.headers['set-cookie']).toBeUndefined();
    expect((await verify(await challengeFor(user.input.email), { recoveryCode: recoveryCodes[0]! })).json().code).toBe('TWO_FACTOR_LOCKED');
    const disable = await call('POST', '/v1/auth/2fa/disable', user.accessToken, { password: TEST_PASSWORD, code: totpCode(secret, 1) });
    expect(disable.json().code).toBe('TWO_FACTOR_LOCKED');
    expect(await ctx.db.query('SELECT 1 FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL', [user.user.id])).toMatchObject({ rowCount: 0 });

    // 14 minutes on: still locked.
    moveClock(14 * MINUTE);
    expect((await verify(await challengeFor(user.input.email), { code: codeAt(secret, 14 * MINUTE) })).json().code).toBe('TWO_FACTOR_LOCKED');
    // Past the 15 minutes: the right code gets in, and the slate is clean.
    moveClock(16 * MINUTE);
    const accepted = await verify(await challengeFor(user.input.email), { code: codeAt(secret, 16 * MINUTE) });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(await lockState(user.user.id)).toEqual({ failed_attempts: 0, lockouts: 0, locked_until: null });

    // One mail and one warning for the one lockout, naming no code or secret.
    const mails = await lockedMails(user.input.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('10 wrong codes in a row');
    const lockouts = warn.mock.calls.filter(([entry]) => (entry as { event?: string }).event === 'two_factor_locked');
    expect(lockouts).toEqual([[{ event: 'two_factor_locked', userId: user.user.id, lockedUntil: locked.locked_until.toISOString() }, expect.any(String)]]);
    expect(JSON.stringify(lockouts)).not.toContain(secret);
  });

  it('each further lockout lasts twice as long; a right code resets the doubling', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { secret } = await enableTotp(ctx.t.app, user.accessToken);
    const fail = async (times: number) => {
      for (let n = 0; n < times; n += 5) {
        const challenge = await challengeFor(user.input.email);
        for (let attempt = 0; attempt < Math.min(5, times - n); attempt++) await verify(challenge, { code: wrongCode(secret) });
      }
    };
    await fail(10);
    // No lockout mail may be in flight when the clock jumps: its lease would seem run out, and it would go twice.
    await mailsSettled(ctx.t.app);
    moveClock(16 * MINUTE);
    await fail(10);
    const second = await lockState(user.user.id);
    expect(second.lockouts).toBe(2);
    expect(second.locked_until.getTime() - (Date.now() + 16 * MINUTE)).toBeGreaterThan(29 * MINUTE);
    expect(second.locked_until.getTime() - (Date.now() + 16 * MINUTE)).toBeLessThanOrEqual(30 * MINUTE);

    await mailsSettled(ctx.t.app);
    moveClock(47 * MINUTE);
    expect((await verify(await challengeFor(user.input.email), { code: codeAt(secret, 47 * MINUTE) })).statusCode).toBe(200);
    await fail(10);
    const afterSuccess = await lockState(user.user.id);
    expect(afterSuccess.lockouts).toBe(1);
    expect(afterSuccess.locked_until.getTime() - (Date.now() + 47 * MINUTE)).toBeLessThanOrEqual(15 * MINUTE);
    expect(await lockedMails(user.input.email)).toHaveLength(3);
  });

  it('wrong codes racing over three challenges are counted exactly: the tenth locks, the rest are refused', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { secret } = await enableTotp(ctx.t.app, user.accessToken);
    const challenges = await Promise.all([1, 2, 3].map(() => challengeFor(user.input.email)));
    const answers = await Promise.all(challenges.flatMap((challenge) => Array.from({ length: 5 }, () => verify(challenge, { code: wrongCode(secret) }))));
    const codes = answers.map((answer) => answer.json().code as string);
    expect(codes.filter((code) => code === 'TWO_FACTOR_CODE_INVALID')).toHaveLength(9);
    expect(codes.filter((code) => code === 'TWO_FACTOR_LOCKED')).toHaveLength(6);
    expect(await lockState(user.user.id)).toMatchObject({ failed_attempts: 0, lockouts: 1 });
    expect(await lockedMails(user.input.email)).toHaveLength(1);
  });

  it('a recovery code stored before codes were keyed (plain SHA-256) still works, once', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const { recoveryCodes } = await enableTotp(ctx.t.app, user.accessToken);
    const old = 'k7m2q-x9p4t';
    await ctx.db.query('INSERT INTO recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)', [
      'rcv_01jh8x2v3kf6qz9w0c4m5t7r8y',
      user.user.id,
      createHash('sha256').update('k7m2qx9p4t').digest('hex'),
    ]);
    const used = await verify(await challengeFor(user.input.email), { recoveryCode: old.toUpperCase() });
    expect(used.statusCode, used.body).toBe(200);
    const [row] = (await ctx.db.query("SELECT used_at FROM recovery_codes WHERE id = 'rcv_01jh8x2v3kf6qz9w0c4m5t7r8y'")).rows;
    expect(row.used_at).not.toBeNull();
    expect((await verify(await challengeFor(user.input.email), { recoveryCode: old })).json().code).toBe('TWO_FACTOR_CODE_INVALID');
    // The keyed ones work beside it.
    expect((await verify(await challengeFor(user.input.email), { recoveryCode: recoveryCodes[0]! })).statusCode).toBe(200);
  });
});
