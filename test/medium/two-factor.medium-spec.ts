import * as OTPAuth from 'otpauth';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LOCKOUT_AFTER_FAILURES } from '../../src/modules/auth/two-factor-attempts.service';
import { CHALLENGE_MAX_FAILURES } from '../../src/modules/auth/two-factor.repository';
import { TwoFactorService } from '../../src/modules/auth/two-factor.service';
import { insertUser, TEST_PASSWORD } from '../factories/users';
import { domainError, userPrincipal } from '../helpers/principals';
import { setClock } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

// In the middle of a 30-second step, so a code computed for it is not read in the next one.
const NOW = new Date('2026-12-03T12:00:15.000Z');
const STEP_MS = 30_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);
const codeAt = (secret: string, time: Date) => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: time.getTime() });

/** A code no step around `time` accepts. */
function wrongCodeAt(secret: string, time: Date): string {
  const accepted = new Set([-1, 0, 1].map((steps) => codeAt(secret, new Date(time.getTime() + steps * STEP_MS))));
  for (let n = 0; ; n++) if (!accepted.has(String(n).padStart(6, '0'))) return String(n).padStart(6, '0');
}

/** Medium tier: the real TwoFactorService and its repositories on this file's database, called without HTTP. */
describe('TwoFactorService (medium)', () => {
  const ctx = useTestApp();
  const service = () => ctx.t.app.get(TwoFactorService);
  const credential = async (userId: string) => (await ctx.db.query('SELECT * FROM totp_credentials WHERE user_id = $1', [userId])).rows[0];
  afterEach(() => vi.restoreAllMocks());

  /** A user with 2FA confirmed at NOW (NOW's step is spent by the confirm). */
  async function enrolled() {
    setClock(ctx.t.app, NOW);
    const user = await insertUser(ctx.db);
    const principal = userPrincipal(user);
    const { secret } = await service().setup(principal, { password: TEST_PASSWORD });
    const { recoveryCodes } = await service().confirm(principal, { code: codeAt(secret, NOW), password: TEST_PASSWORD });
    return { user, secret, recoveryCodes };
  }
  const challenge = async (userId: string) => (await service().issueChallenge(userId, 'TOTP')).challenge.token;

  it('enrolment: the password is asked again; the secret is sealed at rest; a wrong first code leaves 2FA off', async () => {
    setClock(ctx.t.app, NOW);
    const user = await insertUser(ctx.db);
    const principal = userPrincipal(user);
    expect(await domainError(service().setup(principal, { password: 'not-the-password' }))).toMatchObject({ code: 'PASSWORD_INCORRECT' });
    expect(await domainError(service().confirm(principal, { code: '123456', password: TEST_PASSWORD }))).toMatchObject({ code: 'TWO_FACTOR_SETUP_REQUIRED' });

    const { secret } = await service().setup(principal, { password: TEST_PASSWORD });
    expect(JSON.stringify(await credential(user.id))).not.toContain(secret);
    expect(await domainError(service().confirm(principal, { code: wrongCodeAt(secret, NOW), password: TEST_PASSWORD }))).toMatchObject({
      code: 'TWO_FACTOR_CODE_INVALID',
    });
    expect(await service().isEnabled(user.id)).toBe(false);

    const { recoveryCodes } = await service().confirm(principal, { code: codeAt(secret, NOW), password: TEST_PASSWORD });
    expect(await service().isEnabled(user.id)).toBe(true);
    expect(recoveryCodes).toHaveLength(10);
    const stored = (await ctx.db.query('SELECT code_hash FROM recovery_codes WHERE user_id = $1', [user.id])).rows;
    expect(stored).toHaveLength(10);
    expect(JSON.stringify(stored)).not.toContain(recoveryCodes[0]);
    expect(await domainError(service().setup(principal, { password: TEST_PASSWORD }))).toMatchObject({ code: 'TWO_FACTOR_ALREADY_ENABLED' });
  });

  it("a code is accepted once: the confirm's code, a code replayed, and an older step after a newer one are refused", async () => {
    const { user, secret } = await enrolled();
    expect(await domainError(service().passChallenge(await challenge(user.id), { code: codeAt(secret, NOW) }))).toMatchObject({
      code: 'TWO_FACTOR_CODE_INVALID',
    });

    const next = codeAt(secret, at(STEP_MS));
    expect(await service().passChallenge(await challenge(user.id), { code: next })).toBe(user.id);
    expect(await domainError(service().passChallenge(await challenge(user.id), { code: next }))).toMatchObject({ code: 'TWO_FACTOR_CODE_INVALID' });
    setClock(ctx.t.app, at(STEP_MS));
    expect(await domainError(service().passChallenge(await challenge(user.id), { code: codeAt(secret, NOW) }))).toMatchObject({
      code: 'TWO_FACTOR_CODE_INVALID',
    });
    expect(Number((await credential(user.id)).last_used_step)).toBe(Math.floor(at(STEP_MS).getTime() / STEP_MS));
  });

  it('of parallel logins with one code, exactly one passes; a spent challenge is not answered again', async () => {
    const { user, secret } = await enrolled();
    const code = codeAt(secret, at(STEP_MS));
    const tokens = await Promise.all(Array.from({ length: 6 }, () => challenge(user.id)));
    const results = await Promise.allSettled(tokens.map((token) => service().passChallenge(token, { code })));
    expect(results.filter((result) => result.status === 'fulfilled')).toEqual([{ status: 'fulfilled', value: user.id }]);

    const winner = tokens[results.findIndex((result) => result.status === 'fulfilled')]!;
    setClock(ctx.t.app, at(2 * STEP_MS));
    expect(await domainError(service().passChallenge(winner, { code: codeAt(secret, at(2 * STEP_MS)) }))).toMatchObject({
      code: 'TWO_FACTOR_CHALLENGE_INVALID',
    });
  });

  it('a recovery code works once, in any case and spacing the user types it', async () => {
    const { user, recoveryCodes } = await enrolled();
    const recoveryCode = recoveryCodes[3]!;
    expect(await service().passChallenge(await challenge(user.id), { recoveryCode: ` ${recoveryCode.toUpperCase()} ` })).toBe(user.id);
    expect(await domainError(service().passChallenge(await challenge(user.id), { recoveryCode }))).toMatchObject({
      code: 'TWO_FACTOR_CODE_INVALID',
    });
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL', [user.id])).rows[0].n).toBe(1);
  });

  it(`${CHALLENGE_MAX_FAILURES} wrong codes void a challenge; ${LOCKOUT_AFTER_FAILURES} in a row, across challenges, lock the user out, the right code too`, async () => {
    const { user, secret } = await enrolled();
    const wrong = wrongCodeAt(secret, NOW);
    const first = await challenge(user.id);
    for (let i = 0; i < CHALLENGE_MAX_FAILURES; i++) {
      expect(await domainError(service().passChallenge(first, { code: wrong }))).toMatchObject({ code: 'TWO_FACTOR_CODE_INVALID' });
    }
    expect(await domainError(service().passChallenge(first, { code: codeAt(secret, at(STEP_MS)) }))).toMatchObject({ code: 'TWO_FACTOR_CHALLENGE_INVALID' });

    const second = await challenge(user.id);
    for (let i = CHALLENGE_MAX_FAILURES; i < LOCKOUT_AFTER_FAILURES - 1; i++) await domainError(service().passChallenge(second, { code: wrong }));
    expect((await credential(user.id)).failed_attempts).toBe(LOCKOUT_AFTER_FAILURES - 1);
    const locked = await domainError(service().passChallenge(await challenge(user.id), { code: wrong }));
    expect(locked).toMatchObject({ code: 'TWO_FACTOR_LOCKED', status: 429, options: { params: { retryAfter: 15 * 60 } } });
    const mails = await ctx.db.query("SELECT template FROM outbound_mails WHERE recipient = $1 AND template = 'twoFactorLocked'", [user.email]);
    expect(mails.rows).toHaveLength(1);

    const right = codeAt(secret, at(STEP_MS));
    expect(await domainError(service().passChallenge(await challenge(user.id), { code: right }))).toMatchObject({ code: 'TWO_FACTOR_LOCKED' });
    // Refused unjudged while locked: the right code was not spent.
    expect(Number((await credential(user.id)).last_used_step)).toBe(Math.floor(NOW.getTime() / STEP_MS));

    const after = at(15 * 60_000 + STEP_MS);
    setClock(ctx.t.app, after);
    expect(await service().passChallenge(await challenge(user.id), { code: codeAt(secret, after) })).toBe(user.id);
    expect(await credential(user.id)).toMatchObject({ failed_attempts: 0, lockouts: 0, locked_until: null });
  });

  it('switching off needs the password and a second factor, and leaves nothing behind', async () => {
    const { user, secret } = await enrolled();
    const principal = userPrincipal(user);
    const code = codeAt(secret, at(STEP_MS));
    expect(await domainError(service().disable(principal, { password: 'wrong-password', code }))).toMatchObject({ code: 'PASSWORD_INCORRECT' });
    expect(await domainError(service().disable(principal, { password: TEST_PASSWORD, code: wrongCodeAt(secret, NOW) }))).toMatchObject({
      code: 'TWO_FACTOR_CODE_INVALID',
    });
    await service().disable(principal, { password: TEST_PASSWORD, code });
    expect(await service().isEnabled(user.id)).toBe(false);
    expect(await credential(user.id)).toBeUndefined();
    expect(await domainError(service().disable(principal, { password: TEST_PASSWORD, code }))).toMatchObject({ code: 'TWO_FACTOR_NOT_ENABLED' });
  });
});
