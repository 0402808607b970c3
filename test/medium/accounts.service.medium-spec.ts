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

  it('the emailed token activates the account and its user once, and is spent', async () => {
    const { user, account, principal } = await pending();
    const dto = { userId: user.id, accountId: account.id, emailVerificationToken: account.emailToken };

    expect((await service().activate(principal, dto)).account).toMatchObject({ id: account.id, status: 'ACTIVE', emailVerified: true });
    expect(await accountRow(account.id)).toMatchObject({ status: 'ACTIVE', email_verified: true, email_token_hash: null });
    const activatedUser = await userRow(user.id);
    expect(activatedUser.status).toBe('ACTIVE');
    expect(activatedUser.email_verified_at).toBeInstanceOf(Date);

    expect(await domainError(service().activate(principal, dto))).toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await userRow(user.id)).toEqual(activatedUser);
  });

  it('of parallel activations with one token exactly one succeeds', async () => {
    const { user, account, principal } = await pending();
    const dto = { userId: user.id, accountId: account.id, emailVerificationToken: account.emailToken };
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => service().activate(principal, dto)));

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const refused of results.filter((result) => result.status === 'rejected')) expect(refused.reason).toMatchObject({ code: 'INVALID_TOKEN' });
    expect(await accountRow(account.id)).toMatchObject({ status: 'ACTIVE', email_token_hash: null });
  });

  it('a wrong or expired token is refused with 4xx and changes neither the account nor the user', async () => {
    const wrong = await pending();
    const before = await accountRow(wrong.account.id);
    const refused = await domainError(
      service().activate(wrong.principal, { userId: wrong.user.id, accountId: wrong.account.id, emailVerificationToken: 'not-the-token' }),
    );
    expect(refused).toMatchObject({ code: 'INVALID_TOKEN' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(await accountRow(wrong.account.id)).toEqual(before);
    expect((await userRow(wrong.user.id)).status).toBe('INACTIVE');

    const late = await pending({ emailTokenExpiresAt: new Date(Date.now() - 1000) });
    const lateBefore = await accountRow(late.account.id);
    expect(
      await domainError(
        service().activate(late.principal, { userId: late.user.id, accountId: late.account.id, emailVerificationToken: late.account.emailToken }),
      ),
    ).toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect(await accountRow(late.account.id)).toEqual(lateBefore);
    expect((await userRow(late.user.id)).status).toBe('INACTIVE');
  });

  it("another user's account is not found by id, and acting for another user is forbidden; neither writes", async () => {
    const a = await pending();
    const b = await pending();
    const bBefore = await accountRow(b.account.id);

    expect(
      await domainError(service().activate(a.principal, { userId: a.user.id, accountId: b.account.id, emailVerificationToken: b.account.emailToken })),
    ).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(
      await domainError(service().activate(a.principal, { userId: b.user.id, accountId: b.account.id, emailVerificationToken: b.account.emailToken })),
    ).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(await accountRow(b.account.id)).toEqual(bBefore);
    expect((await userRow(b.user.id)).status).toBe('INACTIVE');
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
