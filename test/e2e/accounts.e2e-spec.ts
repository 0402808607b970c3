import { afterAll, describe, expect, it } from 'vitest';
import { Retention } from '../../src/common/background';
import { insertAccount, newPhone } from '../factories/accounts';
import { registerAdmin, registerAndLogin, registerInactiveAndLogin } from '../factories/users';
import { FakeTwilio } from '../helpers/fake-twilio';
import { linkIn, Mailbox } from '../helpers/mailbox';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';
const SID = `AC${'0123456789abcdef'.repeat(2)}`;

describe('accounts: email activation and phone verification', () => {
  const mailbox = new Mailbox();
  const twilio = new FakeTwilio();
  // Registered first, so it runs last: after the app has closed (after-hooks run in reverse).
  afterAll(async () => {
    await Promise.all([mailbox.stop(), twilio.stop()]);
  });
  const ctx = useTestApp(async () => {
    const [smtpUrl, twilioUrl] = await Promise.all([mailbox.start(), twilio.start()]);
    return {
      env: {
        SMTP_URL: smtpUrl,
        CORS_ORIGINS: APP,
        SMS_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: 'twilio-test-auth-token',
        TWILIO_FROM: '+15005550006',
        TWILIO_API_BASE: twilioUrl,
      },
    };
  });

  type Auth = { bearer: string } | { cookie: string; origin?: string };
  const headersFor = (auth: Auth): Record<string, string> =>
    'bearer' in auth
      ? { authorization: `Bearer ${auth.bearer}` }
      : { cookie: `gatehouse_auth=${auth.cookie}`, ...(auth.origin ? { origin: auth.origin } : {}) };
  const post = (url: string, auth: Auth, payload: unknown) =>
    ctx.t.app.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headersFor(auth) } });
  const anonymous = (url: string, payload: unknown) =>
    ctx.t.app.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
  const get = (url: string, auth: Auth) => ctx.t.app.inject({ method: 'GET', url, headers: headersFor(auth) });

  const activationRequest = (userId: string, overrides: Record<string, unknown> = {}) => ({
    userId,
    accountType: 'CORPORATE',
    mobilePhone: '+905321234567',
    address: 'Büyükdere Cd. 1, İstanbul',
    company: 'Acme',
    activationPageLink: `${APP}/activate`,
    ...overrides,
  });

  async function activateThroughMail(auth: Auth, userId: string, email: string) {
    const request = await post('/v1/accounts/account-activation-request', auth, activationRequest(userId));
    expect(request.statusCode, request.body).toBe(201);
    expect(request.json().account).toMatchObject({ userId, status: 'PENDING', emailVerified: false, phoneVerified: false });
    const link = linkIn((await mailbox.waitFor(email)).at(-1)!);
    expect(`${link.origin}${link.pathname}`).toBe(`${APP}/activate`);
    // One parameter, named as the body field; it alone names the account.
    const params = Object.fromEntries(link.searchParams);
    expect(Object.keys(params)).toEqual(['emailVerificationToken']);
    expect(params.emailVerificationToken!.startsWith(`${request.json().account.id}.`)).toBe(true);
    // A link in a mail: no login.
    const activated = await anonymous('/v1/accounts/activate-account', { emailVerificationToken: params.emailVerificationToken });
    expect(activated.statusCode, activated.body).toBe(200);
    expect(activated.json().account.userId).toBe(userId);
    return { account: activated.json().account, token: params.emailVerificationToken! };
  }

  it('register, login, request activation, follow the mailed link, activate: the user is ACTIVE', async () => {
    const session = await registerInactiveAndLogin(ctx.t.app);
    const auth = { bearer: session.accessToken };
    const { account, token } = await activateThroughMail(auth, session.user.id, session.input.email);
    expect(account).toMatchObject({ status: 'ACTIVE', emailVerified: true });

    const me = await get('/v1/users/me', auth);
    expect(me.json().user).toMatchObject({ status: 'ACTIVE', emailVerifiedAt: expect.any(String) });
    expect((await get('/v1/accounts/me', auth)).json().account.id).toBe(account.id);
    const { rows } = await ctx.db.query('SELECT email_token_expires_at FROM accounts WHERE id = $1', [account.id]);
    expect(rows[0]).toEqual({ email_token_expires_at: null });

    const reused = await anonymous('/v1/accounts/activate-account', { emailVerificationToken: token });
    expect(reused.statusCode).toBe(409);
    expect(reused.json().code).toBe('ACCOUNT_ALREADY_ACTIVE');
    const again = await post('/v1/accounts/account-activation-request', auth, activationRequest(session.user.id));
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ACCOUNT_ALREADY_ACTIVE');
  });

  it('works by the login cookie alone, and refuses the cookie from a foreign origin', async () => {
    const session = await registerInactiveAndLogin(ctx.t.app);
    const foreign = await post(
      '/v1/accounts/account-activation-request',
      { cookie: session.cookies.gatehouse_auth!, origin: 'https://evil.example' },
      activationRequest(session.user.id),
    );
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().code).toBe('CSRF_REJECTED');
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM accounts WHERE user_id = $1', [session.user.id]);
    expect(rows[0].n).toBe(0);

    const auth = { cookie: session.cookies.gatehouse_auth!, origin: APP };
    await activateThroughMail(auth, session.user.id, session.input.email);
    const me = await get('/v1/users/me', auth);
    expect(me.json().user.status).toBe('ACTIVE');
  });

  it('asking again while PENDING answers 200 and replaces the token', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const auth = { bearer: session.accessToken };
    const first = await post('/v1/accounts/account-activation-request', auth, activationRequest(session.user.id));
    const oldToken = linkIn((await mailbox.waitFor(session.input.email)).at(-1)!).searchParams.get('emailVerificationToken')!;
    const second = await post('/v1/accounts/account-activation-request', auth, activationRequest(session.user.id, { company: undefined }));
    expect(second.statusCode).toBe(200);
    expect(second.json().account).toMatchObject({ id: first.json().account.id, company: null, status: 'PENDING' });
    const stale = await anonymous('/v1/accounts/activate-account', { emailVerificationToken: oldToken });
    expect(stale.json().code).toBe('INVALID_TOKEN');
  });

  it('answers an expired token with 400 TOKEN_EXPIRED', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const auth = { bearer: session.accessToken };
    const request = await post('/v1/accounts/account-activation-request', auth, activationRequest(session.user.id));
    const token = linkIn((await mailbox.waitFor(session.input.email)).at(-1)!).searchParams.get('emailVerificationToken')!;
    await ctx.db.query("UPDATE accounts SET email_token_expires_at = now() - interval '1 second' WHERE id = $1", [request.json().account.id]);
    const expired = await anonymous('/v1/accounts/activate-account', { emailVerificationToken: token });
    expect(expired.statusCode).toBe(400);
    expect(expired.json().code).toBe('TOKEN_EXPIRED');
  });

  it('refuses a bad phone number and a link outside the allowed origins with per-field 422s', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const auth = { bearer: session.accessToken };
    const badPhone = await post('/v1/accounts/account-activation-request', auth, activationRequest(session.user.id, { mobilePhone: '+90 532 123' }));
    expect(badPhone.statusCode).toBe(422);
    expect(badPhone.json().errors).toEqual([
      { field: 'mobilePhone', code: 'INVALID_PHONE', message: 'Must be a valid mobile number in E.164 form, e.g. +905321234567' },
    ]);
    const badLink = await post(
      '/v1/accounts/account-activation-request',
      auth,
      activationRequest(session.user.id, { activationPageLink: 'https://evil.example/activate' }),
    );
    expect(badLink.statusCode).toBe(422);
    expect(badLink.json().errors[0]).toMatchObject({ field: 'activationPageLink', code: 'LINK_ORIGIN_NOT_ALLOWED' });
  });

  it("does not let user A act on user B's account", async () => {
    const a = await registerAndLogin(ctx.t.app);
    const b = await registerAndLogin(ctx.t.app);
    const bAccount = (await post('/v1/accounts/account-activation-request', { bearer: b.accessToken }, activationRequest(b.user.id))).json().account;

    const asB = await post('/v1/accounts/account-activation-request', { bearer: a.accessToken }, activationRequest(b.user.id));
    expect(asB.statusCode).toBe(403);
    // Only the mailed token activates; A's login does not help with B's ids.
    const activateB = await post(
      '/v1/accounts/activate-account',
      { bearer: a.accessToken },
      { userId: b.user.id, accountId: bAccount.id, emailVerificationToken: `${bAccount.id}.x` },
    );
    expect(activateB.statusCode).toBe(400);
    expect(activateB.json().code).toBe('INVALID_TOKEN');
    const phoneOfB = await post(
      '/v1/accounts/phone-number-activation-request',
      { bearer: a.accessToken },
      { userId: a.user.id, accountId: bAccount.id, phoneActivationPageLink: `${APP}/phone` },
    );
    expect(phoneOfB.statusCode).toBe(404);
    const mine = await get('/v1/accounts/me', { bearer: a.accessToken });
    expect(mine.statusCode).toBe(404);
    for (const response of [asB, activateB, phoneOfB, mine]) expect(response.body).not.toContain(bAccount.id);
  });

  it('lets an ADMIN act for another user', async () => {
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    const b = await registerAndLogin(ctx.t.app);
    const response = await post('/v1/accounts/account-activation-request', { bearer: admin.accessToken }, activationRequest(b.user.id));
    expect(response.statusCode).toBe(201);
    expect(await mailbox.waitFor(b.input.email)).toHaveLength(1);
  });

  describe('phone verification', () => {
    async function pendingAccount(mobilePhone = newPhone()) {
      const session = await registerAndLogin(ctx.t.app, { language: 'tr', locale: 'tr-TR', timezone: 'Europe/Istanbul' });
      const auth = { bearer: session.accessToken };
      const account = await insertAccount(ctx.db, { userId: session.user.id, accountType: 'CORPORATE', company: 'Acme', mobilePhone });
      const requestCode = () =>
        post('/v1/accounts/phone-number-activation-request', auth, { userId: session.user.id, accountId: account.id, phoneActivationPageLink: `${APP}/phone` });
      const submit = (code: string) =>
        post('/v1/accounts/activate-phone-number', auth, { userId: session.user.id, accountId: account.id, phoneVerificationToken: code });
      return { session, account, requestCode, submit };
    }
    const lastCode = () => /\b(\d{6})\b/.exec(twilio.messages.at(-1)!.body)![1]!;

    it('texts a 6-digit code through Twilio, and the code verifies the phone', async () => {
      const { account, requestCode, submit } = await pendingAccount();
      const response = await requestCode();
      expect(response.statusCode).toBe(202);
      const message = twilio.messages.at(-1)!;
      expect(message).toMatchObject({ accountSid: SID, to: account.mobilePhone, from: '+15005550006' });
      expect(message.authorization).toBe(`Basic ${Buffer.from(`${SID}:twilio-test-auth-token`).toString('base64')}`);
      expect(message.body).toContain('Gatehouse doğrulama kodunuz');
      const { rows } = await ctx.db.query('SELECT phone_code_hash FROM accounts WHERE id = $1', [account.id]);
      expect(rows[0].phone_code_hash).not.toContain(lastCode());

      const verified = await submit(lastCode());
      expect(verified.statusCode).toBe(200);
      expect(verified.json().account.phoneVerified).toBe(true);
    });

    it('answers 502 UPSTREAM_FAILED when Twilio refuses the message', async () => {
      const { session, account } = await pendingAccount();
      twilio.failNext = true;
      const response = await post(
        '/v1/accounts/phone-number-activation-request',
        { bearer: session.accessToken },
        {
          userId: session.user.id,
          accountId: account.id,
          phoneActivationPageLink: `${APP}/phone`,
        },
      );
      expect(response.statusCode).toBe(502);
      expect(response.json().code).toBe('UPSTREAM_FAILED');
      expect(response.body).not.toContain('Twilio');
    });

    it('allows exactly 3 sends an hour per account, even when they race', async () => {
      const { requestCode } = await pendingAccount();
      const results = await Promise.all(Array.from({ length: 6 }, () => requestCode()));
      const statuses = results.map((response) => response.statusCode);
      expect(statuses.filter((status) => status === 202)).toHaveLength(3);
      const limited = results.filter((response) => response.statusCode === 429);
      expect(limited).toHaveLength(3);
      expect(limited[0]!.json().code).toBe('RATE_LIMITED');
      expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThan(3500);
    });

    it('caps texts per destination number per UTC day (5), across accounts and atomically, with Retry-After to midnight (finding: phone sends per number)', async () => {
      const phone = newPhone();
      const senders = [];
      for (let i = 0; i < 7; i++) senders.push(await pendingAccount(phone));
      const results = await Promise.all(senders.map((sender) => sender.requestCode()));
      const statuses = results.map((response) => response.statusCode);
      expect(statuses.filter((status) => status === 202)).toHaveLength(5);
      const limited = results.filter((response) => response.statusCode === 429);
      expect(limited).toHaveLength(2);
      expect(limited[0]!.json().code).toBe('RATE_LIMITED');
      expect(Number(limited[0]!.headers['retry-after'])).toBeLessThanOrEqual(86_400);
      expect(twilio.messages.filter((message) => message.to === phone)).toHaveLength(5);
      const { rows: counts } = await ctx.db.query('SELECT sends FROM phone_send_counts WHERE mobile_phone = $1', [phone]);
      expect(counts).toEqual([{ sends: 5 }]);
      // A refused request changes no account's counters and stores no code.
      const { rows } = await ctx.db.query(
        'SELECT count(*) FILTER (WHERE phone_code_hash IS NULL AND phone_sends_in_window = 0)::int AS untouched FROM accounts WHERE mobile_phone = $1',
        [phone],
      );
      expect(rows[0].untouched).toBe(2);
    });

    it("prunes per-number counters of past days, and keeps today's", async () => {
      await ctx.db.query("INSERT INTO phone_send_counts VALUES ('+900000000001', current_date - 2, 5), ('+900000000002', (now() AT TIME ZONE 'UTC')::date, 1)");
      await ctx.t.app.get(Retention).run('phone send counters of past days');
      const { rows } = await ctx.db.query("SELECT mobile_phone FROM phone_send_counts WHERE mobile_phone IN ('+900000000001', '+900000000002')");
      expect(rows).toEqual([{ mobile_phone: '+900000000002' }]);
    });

    it('a new phone number must be verified again', async () => {
      const { session, requestCode, submit } = await pendingAccount();
      await requestCode();
      expect((await submit(lastCode())).json().account.phoneVerified).toBe(true);
      const changed = await post(
        '/v1/accounts/account-activation-request',
        { bearer: session.accessToken },
        activationRequest(session.user.id, { mobilePhone: '+905551234567' }),
      );
      expect(changed.json().account).toMatchObject({ mobilePhone: '+905551234567', phoneVerified: false });
      const same = await post(
        '/v1/accounts/account-activation-request',
        { bearer: session.accessToken },
        activationRequest(session.user.id, { mobilePhone: '+905551234567' }),
      );
      expect(same.json().account.phoneVerified).toBe(false);
    });

    it("refuses to text or verify for another user's account", async () => {
      const { session: victim, account } = await pendingAccount();
      const attacker = await registerAndLogin(ctx.t.app);
      const auth = { bearer: attacker.accessToken };
      const send = await post('/v1/accounts/phone-number-activation-request', auth, {
        userId: victim.user.id,
        accountId: account.id,
        phoneActivationPageLink: `${APP}/phone`,
      });
      expect(send.statusCode).toBe(403);
      const verify = await post('/v1/accounts/activate-phone-number', auth, {
        userId: victim.user.id,
        accountId: account.id,
        phoneVerificationToken: '123456',
      });
      expect(verify.statusCode).toBe(403);
      const { rows } = await ctx.db.query('SELECT phone_sends_in_window, phone_code_attempts FROM accounts WHERE id = $1', [account.id]);
      expect(rows[0]).toEqual({ phone_sends_in_window: 0, phone_code_attempts: 0 });
    });

    it('voids the code after 5 wrong attempts', async () => {
      const { account, requestCode, submit } = await pendingAccount();
      await requestCode();
      const code = lastCode();
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 4; i++) expect((await submit(wrong)).json().code).toBe('INVALID_TOKEN');
      const { rows } = await ctx.db.query('SELECT phone_code_attempts, phone_code_hash IS NOT NULL AS live FROM accounts WHERE id = $1', [account.id]);
      expect(rows[0]).toEqual({ phone_code_attempts: 4, live: true });
      expect((await submit(wrong)).json().code).toBe('INVALID_TOKEN');
      const right = await submit(code);
      expect(right.statusCode).toBe(400);
      expect(right.json().code).toBe('INVALID_TOKEN');
    });

    it('accepts the right code after a few wrong ones', async () => {
      const { requestCode, submit } = await pendingAccount();
      await requestCode();
      const code = lastCode();
      for (let i = 0; i < 4; i++) await submit(code === '000000' ? '111111' : '000000');
      expect((await submit(code)).json().account.phoneVerified).toBe(true);
    });
  });

  it('an account that is not ACTIVE reaches only identity and activation routes (403 ACCOUNT_NOT_ACTIVE elsewhere, nothing written), until the mailed link is followed', async () => {
    const session = await registerInactiveAndLogin(ctx.t.app);
    const auth = { bearer: session.accessToken };
    const textsBefore = twilio.messages.length;
    const refused = [
      await post('/v1/accounts/phone-number-activation-request', auth, {
        userId: session.user.id,
        accountId: 'acc_01jh8x2v3kf6qz9w0c4m5t7r8y',
        phoneActivationPageLink: `${APP}/phone`,
      }),
      await post('/v1/api-keys', auth, { name: 'ci', scope: 'read-write', environment: 'live' }),
      await get('/v1/products', auth),
      await get('/v1/licenses', auth),
    ];
    for (const response of refused) {
      expect(response.statusCode, response.body).toBe(403);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().code).toBe('ACCOUNT_NOT_ACTIVE');
    }
    expect(twilio.messages.length).toBe(textsBefore);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM api_keys WHERE owner_id = $1', [session.user.id]);
    expect(rows[0].n).toBe(0);

    expect((await get('/v1/users/me', auth)).statusCode).toBe(200);
    await activateThroughMail(auth, session.user.id, session.input.email);
    // The activation reaches the same access token at once, on this instance.
    const products = await get('/v1/products', auth);
    expect(products.statusCode, products.body).toBe(200);
  });

  describe('self-service needs no ids (issue 22)', () => {
    it("an activation request without userId creates the caller's own account; naming another user is still 403 and writes nothing", async () => {
      const a = await registerAndLogin(ctx.t.app);
      const b = await registerAndLogin(ctx.t.app);
      const { userId: _omitted, ...withoutId } = activationRequest(a.user.id);
      const created = await post('/v1/accounts/account-activation-request', { bearer: a.accessToken }, withoutId);
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().account).toMatchObject({ userId: a.user.id, status: 'PENDING' });
      // The mailed link's token names the caller's own account (<accountId>.<secret>).
      expect(linkIn((await mailbox.waitFor(a.input.email)).at(-1)!).searchParams.get('emailVerificationToken')).toMatch(
        new RegExp(`^${String(created.json().account.id)}\\.`),
      );

      const forB = await post('/v1/accounts/account-activation-request', { bearer: a.accessToken }, activationRequest(b.user.id));
      expect([forB.statusCode, forB.json().code]).toEqual([403, 'FORBIDDEN']);
      expect((await ctx.db.query('SELECT 1 FROM accounts WHERE user_id = $1', [b.user.id])).rowCount).toBe(0);
    });

    it("the phone code is requested and checked without userId or accountId: the caller's own account; another user's is 403, an ADMIN may name one", async () => {
      const session = await registerAndLogin(ctx.t.app);
      const account = await insertAccount(ctx.db, { userId: session.user.id, mobilePhone: newPhone() });
      const other = await registerAndLogin(ctx.t.app);
      const otherAccount = await insertAccount(ctx.db, { userId: other.user.id, mobilePhone: newPhone() });
      const auth = { bearer: session.accessToken };

      const sent = await post('/v1/accounts/phone-number-activation-request', auth, { phoneActivationPageLink: `${APP}/phone` });
      expect(sent.statusCode, sent.body).toBe(202);
      expect(twilio.messages.at(-1)!.to).toBe(account.mobilePhone);
      const code = /\b(\d{6})\b/.exec(twilio.messages.at(-1)!.body)![1]!;
      const verified = await post('/v1/accounts/activate-phone-number', auth, { phoneVerificationToken: code });
      expect(verified.statusCode, verified.body).toBe(200);
      expect(verified.json().account).toMatchObject({ id: account.id, phoneVerified: true });

      const texts = twilio.messages.length;
      const forOther = await post('/v1/accounts/phone-number-activation-request', auth, { userId: other.user.id, phoneActivationPageLink: `${APP}/phone` });
      expect([forOther.statusCode, forOther.json().code]).toEqual([403, 'FORBIDDEN']);
      const checkOther = await post('/v1/accounts/activate-phone-number', auth, { userId: other.user.id, phoneVerificationToken: '123456' });
      expect([checkOther.statusCode, checkOther.json().code]).toEqual([403, 'FORBIDDEN']);
      expect(twilio.messages.length).toBe(texts);
      const { rows } = await ctx.db.query('SELECT phone_code_hash, phone_code_attempts FROM accounts WHERE id = $1', [otherAccount.id]);
      expect(rows[0]).toEqual({ phone_code_hash: null, phone_code_attempts: 0 });

      const admin = await registerAdmin(ctx.t.app, ctx.db);
      const byAdmin = await post(
        '/v1/accounts/phone-number-activation-request',
        { bearer: admin.accessToken },
        { userId: other.user.id, phoneActivationPageLink: `${APP}/phone` },
      );
      expect(byAdmin.statusCode, byAdmin.body).toBe(202);
      expect(twilio.messages.at(-1)!.to).toBe(otherAccount.mobilePhone);
    });

    it('a user without an account asking for a phone code without ids gets 404', async () => {
      const session = await registerAndLogin(ctx.t.app);
      const response = await post('/v1/accounts/phone-number-activation-request', { bearer: session.accessToken }, { phoneActivationPageLink: `${APP}/phone` });
      expect([response.statusCode, response.json().code]).toEqual([404, 'NOT_FOUND']);
    });
  });
});
