import { describe, expect, it } from 'vitest';
import { AccountsService, PHONE_CODE_MAX_ATTEMPTS, PHONE_SENDS_PER_HOUR } from '../../src/modules/accounts/accounts.service';
import { insertAccount } from '../factories/accounts';
import { insertUser } from '../factories/users';
import { domainError, userPrincipal } from '../helpers/principals';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';

/** Medium tier: the real AccountsService and repositories on this file's database, called without HTTP. */
describe('AccountsService (medium)', () => {
  const ctx = useTestApp({ env: { ALLOWED_LINK_ORIGINS: APP } });
  const service = () => ctx.t.app.get(AccountsService);
  const accountRow = async (id: string) =>
    (
      await ctx.db.query(
        'SELECT status, email_verified, email_token_hash, phone_verified, phone_code_hash, phone_code_attempts, phone_sends_in_window FROM accounts WHERE id = $1',
        [id],
      )
    ).rows[0];
  const userRow = async (id: string) => (await ctx.db.query('SELECT status, email_verified_at FROM users WHERE id = $1', [id])).rows[0];

  /** An INACTIVE user with a PENDING account, as registration and an activation request leave them. */
  async function pending(overrides: Parameters<typeof insertAccount>[1] = {}) {
    const user = await insertUser(ctx.db, { status: 'INACTIVE' });
    const account = await insertAccount(ctx.db, { userId: user.id, ...overrides });
    return { user, account, principal: userPrincipal(user) };
  }

  it('the mailed token alone activates the account and its user once; a second use is ACCOUNT_ALREADY_ACTIVE', async () => {
    const { user, account } = await pending();
    const dto = { emailVerificationToken: account.emailToken };

    expect((await service().activate(dto)).account).toMatchObject({ id: account.id, status: 'ACTIVE', emailVerified: true });
    expect(await accountRow(account.id)).toMatchObject({ status: 'ACTIVE', email_verified: true });
    const activatedUser = await userRow(user.id);
    expect(activatedUser.status).toBe('ACTIVE');
    expect(activatedUser.email_verified_at).toBeInstanceOf(Date);

    expect(await domainError(service().activate(dto))).toMatchObject({ code: 'ACCOUNT_ALREADY_ACTIVE', status: 409 });
    expect(await userRow(user.id)).toEqual(activatedUser);
  });

  it('of parallel activations with one token exactly one succeeds; the others are ACCOUNT_ALREADY_ACTIVE', async () => {
    const { user, account } = await pending();
    const dto = { emailVerificationToken: account.emailToken };
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => service().activate(dto)));

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(5);
    for (const result of refused) expect(result.reason).toMatchObject({ code: 'ACCOUNT_ALREADY_ACTIVE' });
    expect(await accountRow(account.id)).toMatchObject({ status: 'ACTIVE', email_verified: true });
    expect((await userRow(user.id)).status).toBe('ACTIVE');
  });

  it('links mailed before the token named its account still work: the bare secret with userId and accountId', async () => {
    const { user, account } = await pending();
    expect(await domainError(service().activate({ emailVerificationToken: account.emailSecret }))).toMatchObject({ code: 'INVALID_TOKEN' });
    const activated = await service().activate({ userId: user.id, accountId: account.id, emailVerificationToken: account.emailSecret });
    expect(activated.account).toMatchObject({ id: account.id, status: 'ACTIVE' });
  });

  it('a wrong or expired token is refused with 4xx and changes neither the account nor the user', async () => {
    const wrong = await pending();
    const before = await accountRow(wrong.account.id);
    for (const emailVerificationToken of [
      'not-the-token',
      `${wrong.account.id}.not-the-secret`,
      `${wrong.account.id}.`,
      `acc_01jh8x2v3kf6qz9w0c4m5t7r8y.${wrong.account.emailSecret}`,
    ]) {
      const refused = await domainError(service().activate({ emailVerificationToken }));
      expect(refused, emailVerificationToken).toMatchObject({ code: 'INVALID_TOKEN', status: 400 });
    }
    expect(await accountRow(wrong.account.id)).toEqual(before);
    expect((await userRow(wrong.user.id)).status).toBe('INACTIVE');

    const late = await pending({ emailTokenExpiresAt: new Date(Date.now() - 1000) });
    const lateBefore = await accountRow(late.account.id);
    expect(await domainError(service().activate({ emailVerificationToken: late.account.emailToken }))).toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect(await accountRow(late.account.id)).toEqual(lateBefore);
    expect((await userRow(late.user.id)).status).toBe('INACTIVE');
  });

  it("a userId or accountId sent beside the token must be the token's own; a mismatch writes nothing", async () => {
    const a = await pending();
    const b = await pending();
    const bBefore = await accountRow(b.account.id);

    for (const ids of [{ userId: a.user.id }, { accountId: a.account.id }, { userId: a.user.id, accountId: b.account.id }]) {
      expect(await domainError(service().activate({ ...ids, emailVerificationToken: b.account.emailToken })), JSON.stringify(ids)).toMatchObject({
        code: 'INVALID_TOKEN',
        status: 400,
      });
    }
    expect(await accountRow(b.account.id)).toEqual(bBefore);
    expect((await userRow(b.user.id)).status).toBe('INACTIVE');
    const activated = await service().activate({ userId: b.user.id, accountId: b.account.id, emailVerificationToken: b.account.emailToken });
    expect(activated.account.status).toBe('ACTIVE');
  });

  it(`phone code: wrong codes count, the ${PHONE_CODE_MAX_ATTEMPTS}th voids it, and then even the right code is refused`, async () => {
    const { user, account, principal } = await pending({ phoneCode: '123456' });
    const submit = (code: string) => service().activatePhone(principal, { userId: user.id, accountId: account.id, phoneVerificationToken: code });

    for (let attempt = 1; attempt < PHONE_CODE_MAX_ATTEMPTS; attempt++) {
      expect(await domainError(submit('000000'))).toMatchObject({ code: 'INVALID_TOKEN' });
      expect(await accountRow(account.id)).toMatchObject({ phone_code_attempts: attempt, phone_code_hash: expect.any(String), phone_verified: false });
    }
    expect(await domainError(submit('000000'))).toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await accountRow(account.id)).toMatchObject({ phone_code_hash: null, phone_verified: false });
    expect(await domainError(submit('123456'))).toMatchObject({ code: 'INVALID_TOKEN' });
    expect((await accountRow(account.id)).phone_verified).toBe(false);
  });

  it('phone code: the right code verifies the phone and is spent', async () => {
    const { user, account, principal } = await pending({ phoneCode: '654321' });
    const dto = { userId: user.id, accountId: account.id, phoneVerificationToken: '654321' };
    expect((await service().activatePhone(principal, dto)).account.phoneVerified).toBe(true);
    expect(await accountRow(account.id)).toMatchObject({ phone_verified: true, phone_code_hash: null, phone_code_attempts: 0 });
    expect(await domainError(service().activatePhone(principal, dto))).toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it(`phone code requests: ${PHONE_SENDS_PER_HOUR} an hour per account, then 429 with Retry-After, and the refusal counts nothing`, async () => {
    const { user, account, principal } = await pending();
    const request = () => service().requestPhoneVerification(principal, { userId: user.id, accountId: account.id, phoneActivationPageLink: `${APP}/phone` });
    for (let i = 0; i < PHONE_SENDS_PER_HOUR; i++) await request();
    const counted = async () => (await ctx.db.query('SELECT sends FROM phone_send_counts WHERE mobile_phone = $1', [account.mobilePhone])).rows;
    expect(await counted()).toEqual([{ sends: PHONE_SENDS_PER_HOUR }]);

    const limited = await domainError(request());
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect((limited.options as { params?: { retryAfter?: number } }).params?.retryAfter).toBeGreaterThan(0);
    expect((await accountRow(account.id)).phone_sends_in_window).toBe(PHONE_SENDS_PER_HOUR);
    expect(await counted()).toEqual([{ sends: PHONE_SENDS_PER_HOUR }]);
  });
});
