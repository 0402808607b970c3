import { describe, expect, it } from 'vitest';
import { registerUser, TEST_PASSWORD } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

/** The only app with COOKIE_SECURE=true (the prefixed names); every other test app sets it false. */
describe('login cookies with COOKIE_SECURE=true', () => {
  const ctx = useTestApp({ env: { COOKIE_SECURE: 'true' } });

  it('are Secure and named __Host-gatehouse_auth (Path=/, no Domain) and __Secure-gatehouse_auth_refresh (Path=/v1/auth), and are read back', async () => {
    const { input } = await registerUser(ctx.t.app);
    const response = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: JSON.stringify({ email: input.email, password: TEST_PASSWORD }),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.cookies.every((cookie) => cookie.secure === true)).toBe(true);
    const byName = Object.fromEntries(response.cookies.map((cookie) => [cookie.name, cookie]));
    expect(Object.keys(byName).sort()).toEqual(['__Host-gatehouse_auth', '__Secure-gatehouse_auth_refresh']);
    // __Host- requires Secure, Path=/ and no Domain, or browsers drop the cookie.
    expect(byName['__Host-gatehouse_auth']).toMatchObject({ path: '/' });
    expect(byName['__Host-gatehouse_auth']!.domain).toBeUndefined();
    expect(byName['__Secure-gatehouse_auth_refresh']).toMatchObject({ path: '/v1/auth' });

    const access = byName['__Host-gatehouse_auth']!.value;
    const me = await ctx.t.app.inject({ method: 'GET', url: '/v1/users/me', headers: { cookie: `__Host-gatehouse_auth=${access}` } });
    expect(me.statusCode, me.body).toBe(200);
    // The unprefixed name, which a sibling subdomain could plant, is not a credential.
    const planted = await ctx.t.app.inject({ method: 'GET', url: '/v1/users/me', headers: { cookie: `gatehouse_auth=${access}` } });
    expect(planted.statusCode).toBe(401);

    const refreshed = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      headers: { cookie: `__Secure-gatehouse_auth_refresh=${byName['__Secure-gatehouse_auth_refresh']!.value}`, origin: 'http://localhost:3000' },
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.cookies.map((cookie) => cookie.name).sort()).toEqual(['__Host-gatehouse_auth', '__Secure-gatehouse_auth_refresh']);
  });
});
