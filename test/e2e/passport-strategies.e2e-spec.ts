import { JwtService } from '@nestjs/jwt';
import passport from 'passport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessTokenStrategy, ApiKeyStrategy } from '../../src/common/auth/passport-strategies';
import { insertApiKey } from '../factories/api-keys';
import { registerAndLogin } from '../factories/users';
import { TEST_JWT_SECRET, useTestApp } from '../helpers/test-app';

/**
 * Authentication goes through the passport strategies: passport-jwt for the access token (bearer or
 * cookie), passport-custom for API keys. Tokens are signed by JwtService with the same key.
 */
describe('passport strategies', () => {
  const ctx = useTestApp({ env: { COOKIE_SECURE: 'false' } });
  let tokenClaims: ReturnType<typeof vi.spyOn>;
  let keyValidate: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    tokenClaims = vi.spyOn(AccessTokenStrategy.prototype, 'validate');
    keyValidate = vi.spyOn(ApiKeyStrategy.prototype, 'validate');
  });
  afterEach(() => vi.restoreAllMocks());

  const me = (headers: Record<string, string>) => ctx.t.app.inject({ method: 'GET', url: '/v1/users/me', headers });
  /** A token as the app signs one, from a JwtService configured as the test asks. */
  const signed = (claims: Record<string, unknown>, options: ConstructorParameters<typeof JwtService>[0] = {}) =>
    new JwtService({ secret: TEST_JWT_SECRET, signOptions: { algorithm: 'HS256', issuer: 'gatehouse', audience: 'gatehouse-api' }, ...options }).sign(claims);
  const claimsOf = (user: { id: string }) => ({
    sub: user.id,
    sid: 'rtk_01jh8x2v3kf6qz9w0c4m5t7r8y',
    role: 'USER',
    status: 'ACTIVE',
    lang: 'en',
    locale: 'en',
    tz: 'UTC',
  });

  it('registers both strategies with passport', () => {
    // Not in passport's types: how passport.authenticate finds a strategy by name.
    const registered = (name: string) => (passport as unknown as { _strategy(name: string): unknown })._strategy(name);
    expect(registered('gatehouse-access-token')).toBeInstanceOf(AccessTokenStrategy);
    expect(registered('gatehouse-api-key')).toBeInstanceOf(ApiKeyStrategy);
  });

  it('admits a bearer access token through passport-jwt, once per request', async () => {
    const user = await registerAndLogin(ctx.t.app);
    tokenClaims.mockClear();
    const response = await me({ authorization: `Bearer ${user.accessToken}` });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().user.id).toBe(user.user.id);
    expect(tokenClaims).toHaveBeenCalledTimes(1);
    expect(keyValidate).not.toHaveBeenCalled();
  });

  it('admits the login cookie through the same strategy', async () => {
    const user = await registerAndLogin(ctx.t.app);
    tokenClaims.mockClear();
    const response = await me({ cookie: `gatehouse_auth=${user.accessToken}` });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().user.id).toBe(user.user.id);
    expect(tokenClaims).toHaveBeenCalledTimes(1);
  });

  it('admits an API key through the passport-custom strategy, once per request, and refuses an unknown one', async () => {
    const { key, ownerId } = await insertApiKey(ctx.db, { scope: 'read-only' });
    const response = await me({ authorization: `Bearer ${key}` });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().user.id).toBe(ownerId);
    expect(keyValidate).toHaveBeenCalledTimes(1);
    expect(tokenClaims).not.toHaveBeenCalled();
    const unknown = await me({ authorization: `Bearer ${key.slice(0, -4)}zzzz` });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().code).toBe('INVALID_API_KEY');
  });

  it.each([
    [
      'forged (signed with another key)',
      () => signed(claimsOf({ id: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y' }), { secret: 'another-secret-0123456789-abcdefghijklmnop' }),
      'ACCESS_TOKEN_INVALID',
    ],
    [
      'an expired token',
      () => signed({ ...claimsOf({ id: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y' }), exp: Math.floor(Date.now() / 1000) - 10 }),
      'ACCESS_TOKEN_EXPIRED',
    ],
    [
      'a token for another audience',
      () =>
        signed(claimsOf({ id: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y' }), {
          signOptions: { algorithm: 'HS256', issuer: 'gatehouse', audience: 'another-api', expiresIn: 600 },
        }),
      'ACCESS_TOKEN_INVALID',
    ],
  ])('refuses %s, as bearer and as cookie, before its claims are read', async (_name, token, code) => {
    const variants: Record<string, string>[] = [{ authorization: `Bearer ${token()}` }, { cookie: `gatehouse_auth=${token()}` }];
    for (const headers of variants) {
      const response = await me(headers);
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe(code);
    }
    expect(tokenClaims).not.toHaveBeenCalled();
  });

  it('refuses a well-signed token whose claims are not an access token', async () => {
    const response = await me({ authorization: `Bearer ${signed({ sub: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y', exp: Math.floor(Date.now() / 1000) + 600 })}` });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('ACCESS_TOKEN_INVALID');
    expect(tokenClaims).toHaveBeenCalledTimes(1);
  });
});
