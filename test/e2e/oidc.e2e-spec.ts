import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableTotp, totpCode } from '../factories/two-factor';
import { insertUser, login } from '../factories/users';
import { unique } from '../factories/db';
import { callerFor } from '../helpers/http';
import { TestOidcAccount, TestOidcProvider } from '../helpers/oidc-provider';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';
const REDIRECT = `${APP}/signed-in?from=oidc`;
const CALLBACK = 'http://localhost:3000/v1/auth/oidc/test/callback';
const STATE_COOKIE = 'gatehouse_auth_oidc';

/**
 * Sign-in through a real OpenID provider (oidc-provider on a local port): the app's authorize
 * redirect is followed at the provider, and its redirect back is handed to the app's callback.
 */
describe('OIDC sign-in', () => {
  let provider: TestOidcProvider;
  beforeAll(async () => {
    provider = await TestOidcProvider.start(CALLBACK);
  });
  afterAll(() => provider?.close());
  const ctx = useTestApp(() => ({ env: { ...provider.env('test'), ALLOWED_LINK_ORIGINS: APP } }));

  const inject = (url: string, cookie?: string) => ctx.t.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
  const call = callerFor(ctx);
  const person = (overrides: Partial<TestOidcAccount> = {}): TestOidcAccount => ({
    sub: `sub-${unique()}`,
    email: `oidc-${unique()}@example.com`,
    email_verified: true,
    given_name: 'Grace',
    family_name: 'Hopper',
    ...overrides,
  });

  async function startSignIn(redirect = REDIRECT) {
    const response = await inject(`/v1/auth/oidc/test/authorize?redirect=${encodeURIComponent(redirect)}`);
    expect(response.statusCode, response.body).toBe(302);
    const cookie = response.cookies.find((candidate) => candidate.name === STATE_COOKIE)!;
    return { authorizationUrl: response.headers.location as string, cookie, stateCookie: `${STATE_COOKIE}=${cookie.value}` };
  }

  /** authorize -> the provider's login and consent as `account` -> the app's callback. */
  async function signIn(account: TestOidcAccount, change: { authorizationUrl?: (url: URL) => void; callbackUrl?: (url: URL) => void } = {}) {
    const started = await startSignIn();
    const authorizationUrl = new URL(started.authorizationUrl);
    change.authorizationUrl?.(authorizationUrl);
    const callbackUrl = await provider.authorize(authorizationUrl.href, account);
    change.callbackUrl?.(callbackUrl);
    const callbackPath = `${callbackUrl.pathname}${callbackUrl.search}`;
    const response = await inject(callbackPath, started.stateCookie);
    return { started, callbackPath, response };
  }

  const cookiesOf = (response: { cookies: Array<{ name: string; value: string }> }) =>
    Object.fromEntries(response.cookies.map((cookie) => [cookie.name, cookie.value]));

  async function counts() {
    const { rows } = await ctx.db.query<{ users: number; identities: number; refresh: number }>(
      `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM user_identities) AS identities,
              (SELECT count(*)::int FROM refresh_tokens) AS refresh`,
    );
    return rows[0]!;
  }

  /** The refusal redirect, and nothing written: no user, no identity, no login. */
  async function expectRefused(
    attempt: () => Promise<{ response: { statusCode: number; headers: Record<string, unknown>; cookies: unknown[] } }>,
    code: string,
  ) {
    const before = await counts();
    const { response } = await attempt();
    expect(response.statusCode).toBe(302);
    const location = new URL(response.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${APP}/signed-in`);
    expect(location.searchParams.get('error')).toBe(code);
    expect(location.searchParams.get('from')).toBe('oidc');
    expect(cookiesOf(response as never)).not.toHaveProperty('gatehouse_auth');
    expect(await counts()).toEqual(before);
  }

  it('authorize sends the browser to the provider with PKCE S256, state and nonce, remembered in a sealed HttpOnly cookie on the callback path', async () => {
    const { authorizationUrl, cookie } = await startSignIn();
    const url = new URL(authorizationUrl);
    expect(url.origin).toBe(provider.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'gatehouse',
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
    });
    for (const name of ['state', 'nonce', 'code_challenge']) expect(url.searchParams.get(name)).toMatch(/^[\w-]{43}$/);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/v1/auth/oidc/test/callback', maxAge: 600 });
    // Sealed: neither the state nor the nonce can be read from the cookie.
    expect(cookie.value).not.toContain(url.searchParams.get('state'));
    expect(cookie.value).not.toContain(url.searchParams.get('nonce'));
  });

  it('signs a new person in: an ACTIVE user with a verified email and no password, whose cookies work on /v1/users/me', async () => {
    const account = person();
    const before = await counts();
    const { response } = await signIn(account);
    expect(response.statusCode, response.body).toBe(302);
    expect(response.headers.location).toBe(REDIRECT);
    const cookies = cookiesOf(response);
    expect(Object.keys(cookies).sort()).toEqual(['gatehouse_auth', 'gatehouse_auth_oidc', 'gatehouse_auth_refresh']);
    expect(cookies[STATE_COOKIE]).toBe('');

    const me = await inject('/v1/users/me', `gatehouse_auth=${cookies.gatehouse_auth}`);
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().user).toMatchObject({ email: account.email, firstName: 'Grace', lastName: 'Hopper', status: 'ACTIVE' });
    expect(me.json().user.emailVerifiedAt).not.toBeNull();
    const { rows } = await ctx.db.query(
      'SELECT u.password_hash, i.provider, i.subject, i.email FROM users u JOIN user_identities i ON i.user_id = u.id WHERE u.email = $1',
      [account.email],
    );
    expect(rows).toEqual([{ password_hash: null, provider: 'test', subject: account.sub, email: account.email }]);
    expect(await counts()).toEqual({ users: before.users + 1, identities: before.identities + 1, refresh: before.refresh + 1 });

    // The refresh cookie works as a password login's does.
    const refreshed = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      headers: { cookie: `gatehouse_auth_refresh=${cookies.gatehouse_auth_refresh}`, origin: 'http://localhost:3000' },
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);

    // Signing in again finds the same user by (provider, sub), even with another email at the provider.
    const again = await signIn({ ...account, email: `changed-${unique()}@example.com` });
    expect(again.response.headers.location).toBe(REDIRECT);
    const meAgain = await inject('/v1/users/me', `gatehouse_auth=${cookiesOf(again.response).gatehouse_auth}`);
    expect(meAgain.json().user.id).toBe(me.json().user.id);
    expect(await counts()).toMatchObject({ users: before.users + 1, identities: before.identities + 1 });

    // No password: a password login is refused like any wrong password.
    const password = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: account.email, password: 'any password at all' }),
    });
    expect(password.statusCode).toBe(401);
    expect(password.json().code).toBe('INVALID_CREDENTIALS');
  });

  it('a user with 2FA on gets a challenge in the redirect instead of cookies, and finishes with a code', async () => {
    const account = person();
    const first = await signIn(account);
    const { secret } = await enableTotp(ctx.t.app, cookiesOf(first.response).gatehouse_auth!, null);
    const before = await counts();

    const { response } = await signIn(account);
    expect(response.statusCode).toBe(302);
    const location = new URL(response.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${APP}/signed-in`);
    expect(location.searchParams.get('from')).toBe('oidc');
    expect(location.searchParams.get('requiredAuthenticatorType')).toBe('TOTP');
    expect(location.searchParams.get('error')).toBeNull();
    const challenge = location.searchParams.get('challenge')!;
    expect(challenge).toMatch(/^tfc_/);
    expect(Date.parse(location.searchParams.get('challengeExpirationDate')!)).toBeGreaterThan(Date.now());
    // No session: no login cookies (only the spent sign-in cookie is cleared), no refresh token.
    expect(Object.keys(cookiesOf(response))).toEqual([STATE_COOKIE]);
    expect(await counts()).toEqual(before);

    const verified = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/2fa/verify',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ challenge, code: totpCode(secret, 1) }),
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json().user.email).toBe(account.email);
    expect(Object.keys(cookiesOf(verified)).sort()).toEqual(['gatehouse_auth', 'gatehouse_auth_refresh']);
  });

  it('links an existing user by email when the provider says it is verified', async () => {
    const existing = await insertUser(ctx.db, { emailVerifiedAt: new Date() });
    const before = await counts();
    const { response } = await signIn(person({ email: existing.email.toUpperCase() }));
    expect(response.headers.location).toBe(REDIRECT);
    const me = await inject('/v1/users/me', `gatehouse_auth=${cookiesOf(response).gatehouse_auth}`);
    expect(me.json().user.id).toBe(existing.id);
    expect(await counts()).toMatchObject({ users: before.users, identities: before.identities + 1 });
    // The password still works.
    await login(ctx.t.app, existing.email, existing.password);
  });

  it('refuses an unverified email that matches an existing user, and creates nothing', async () => {
    const existing = await insertUser(ctx.db);
    await expectRefused(() => signIn(person({ email: existing.email, email_verified: false })), 'OIDC_EMAIL_UNVERIFIED');
    // Nor does it create a user from an unverified email nobody has.
    await expectRefused(() => signIn(person({ email_verified: false })), 'OIDC_EMAIL_UNVERIFIED');
  });

  it('refuses a suspended user, linked or matched by email, and links nothing', async () => {
    const suspended = await insertUser(ctx.db, { status: 'SUSPENDED' });
    await expectRefused(() => signIn(person({ email: suspended.email })), 'ACCOUNT_SUSPENDED');
    const account = person();
    await signIn(account);
    await ctx.db.query("UPDATE users SET status = 'SUSPENDED' WHERE email = $1", [account.email]);
    await expectRefused(() => signIn(account), 'ACCOUNT_SUSPENDED');
  });

  it('two first sign-ins of one person at once create one user and one identity; the other is refused', async () => {
    const account = person();
    const before = await counts();
    const flows = await Promise.all(
      [1, 2].map(async () => {
        const started = await startSignIn();
        const callbackUrl = await provider.authorize(started.authorizationUrl, account);
        return { path: `${callbackUrl.pathname}${callbackUrl.search}`, cookie: started.stateCookie };
      }),
    );
    const answers = await Promise.all(flows.map((flow) => inject(flow.path, flow.cookie)));
    // Usually they race (one gets CONFLICT); should one finish first, the other finds its identity.
    const locations = answers.map((answer) => answer.headers.location as string);
    expect(locations).toContain(REDIRECT);
    for (const location of locations) expect([REDIRECT, `${REDIRECT}&error=CONFLICT`]).toContain(location);
    const signedIn = locations.filter((location) => location === REDIRECT).length;
    expect(await counts()).toEqual({ users: before.users + 1, identities: before.identities + 1, refresh: before.refresh + signedIn });
  });

  it('refuses a tampered state', async () => {
    await expectRefused(
      () => signIn(person(), { callbackUrl: (url) => url.searchParams.set('state', `${url.searchParams.get('state')}x`) }),
      'OIDC_SIGN_IN_REJECTED',
    );
  });

  it('refuses a replayed callback: the code works once', async () => {
    const { started, callbackPath, response } = await signIn(person());
    expect(response.headers.location).toBe(REDIRECT);
    await expectRefused(async () => ({ response: await inject(callbackPath, started.stateCookie) }), 'OIDC_SIGN_IN_REJECTED');
  });

  it('refuses an ID token whose nonce is not the one this browser was given', async () => {
    await expectRefused(
      () => signIn(person(), { authorizationUrl: (url) => url.searchParams.set('nonce', 'a-nonce-from-another-sign-in') }),
      'OIDC_SIGN_IN_REJECTED',
    );
  });

  describe('ID tokens that fail validation', () => {
    afterAll(() => {
      provider.tamper = undefined;
    });
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, NonNullable<TestOidcProvider['tamper']>]> = [
      ['a changed signature', (token, sign) => `${sign(token).slice(0, -6)}AAAAAA`],
      [
        'a claim changed after signing',
        (token, sign) =>
          [
            sign(token).split('.')[0],
            Buffer.from(JSON.stringify({ ...token.payload, sub: 'someone-else' })).toString('base64url'),
            sign(token).split('.')[2],
          ].join('.'),
      ],
      ['an expired token', (token, sign) => sign({ ...token, payload: { ...token.payload, iat: now() - 7200, exp: now() - 3600 } })],
      ['another audience', (token, sign) => sign({ ...token, payload: { ...token.payload, aud: 'another-client' } })],
      ['another issuer', (token, sign) => sign({ ...token, payload: { ...token.payload, iss: 'https://evil.example.com' } })],
    ];
    for (const [name, tamper] of cases) {
      it(`refuses ${name}`, async () => {
        provider.tamper = tamper;
        await expectRefused(() => signIn(person()), 'OIDC_SIGN_IN_REJECTED');
      });
    }
    it('accepts a token the test re-signed unchanged (the tampering above is what is refused)', async () => {
      provider.tamper = (token, sign) => sign(token);
      const { response } = await signIn(person());
      expect(response.headers.location).toBe(REDIRECT);
    });
  });

  it('without a valid sign-in cookie there is no trusted redirect: a problem, and nothing created', async () => {
    const before = await counts();
    const started = await startSignIn();
    const callbackUrl = await provider.authorize(started.authorizationUrl, person());
    const path = `${callbackUrl.pathname}${callbackUrl.search}`;
    for (const cookie of [undefined, `${STATE_COOKIE}=${started.cookie.value.slice(0, -4)}AAAA`, `${STATE_COOKIE}=garbage`]) {
      const response = await inject(path, cookie);
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('OIDC_STATE_INVALID');
    }
    expect(await counts()).toEqual(before);
  });

  it('authorize refuses an unknown provider (404) and a redirect to an origin not allowed (422)', async () => {
    const unknown = await inject(`/v1/auth/oidc/nope/authorize?redirect=${encodeURIComponent(REDIRECT)}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('OIDC_PROVIDER_NOT_FOUND');
    const elsewhere = await inject(`/v1/auth/oidc/test/authorize?redirect=${encodeURIComponent('https://evil.example.com/x')}`);
    expect(elsewhere.statusCode).toBe(422);
    expect(elsewhere.json().errors[0]).toMatchObject({ field: 'redirect', code: 'LINK_ORIGIN_NOT_ALLOWED' });
  });

  it('Swagger UI lists the sign-in and identity routes (it loads them from /openapi.json)', async () => {
    const spec = await inject('/openapi.json');
    expect(spec.statusCode).toBe(200);
    for (const text of ['/v1/auth/oidc/{provider}/authorize', '/v1/auth/oidc/{provider}/callback', '/v1/users/me/identities/{id}'])
      expect(spec.body).toContain(text);
    for (const operationId of ['authorizeOidc', 'oidcCallback', 'listUserIdentities', 'deleteUserIdentity'])
      expect(spec.body).toContain(`"operationId":"${operationId}"`);
  });

  describe('linked identities', () => {
    it('are listed, unlinked, and the last way in of a user without a password is kept', async () => {
      const account = person();
      const first = await signIn(account);
      // A second identity at the provider with the same verified email links to the same user.
      await signIn(person({ email: account.email }));
      const me = await inject('/v1/users/me', `gatehouse_auth=${cookiesOf(first.response).gatehouse_auth}`);
      const token = cookiesOf(first.response).gatehouse_auth!;

      const listed = await call('GET', '/v1/users/me/identities', token);
      expect(listed.statusCode).toBe(200);
      const items = listed.json().items as Array<{ id: string; provider: string; email: string }>;
      expect(items).toHaveLength(2);
      expect(items[0]).toMatchObject({ provider: 'test', email: account.email });

      // Another user cannot see or unlink them.
      const other = await insertUser(ctx.db);
      const otherLogin = await login(ctx.t.app, other.email, other.password);
      expect((await call('GET', '/v1/users/me/identities', otherLogin.accessToken)).json().items).toEqual([]);
      expect((await call('DELETE', `/v1/users/me/identities/${items[0]!.id}`, otherLogin.accessToken)).statusCode).toBe(404);

      expect((await call('DELETE', `/v1/users/me/identities/${items[0]!.id}`, token)).statusCode).toBe(204);
      const last = await call('DELETE', `/v1/users/me/identities/${items[1]!.id}`, token);
      expect(last.statusCode).toBe(409);
      expect(last.json().code).toBe('LAST_SIGN_IN_METHOD');
      const { rows } = await ctx.db.query('SELECT id FROM user_identities WHERE user_id = $1', [me.json().user.id]);
      expect(rows).toEqual([{ id: items[1]!.id }]);
    });

    it('a user with a password may unlink its only identity', async () => {
      const existing = await insertUser(ctx.db, { emailVerifiedAt: new Date() });
      await signIn(person({ email: existing.email }));
      const { accessToken } = await login(ctx.t.app, existing.email, existing.password);
      const [identity] = (await call('GET', '/v1/users/me/identities', accessToken)).json().items as Array<{ id: string }>;
      expect((await call('DELETE', `/v1/users/me/identities/${identity!.id}`, accessToken)).statusCode).toBe(204);
      expect((await call('GET', '/v1/users/me/identities', accessToken)).json().items).toEqual([]);
    });
  });
});
