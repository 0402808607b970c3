import { describe, expect, it } from 'vitest';
import { registerUser, TEST_PASSWORD } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

const SLOWDOWN_MAX_MS = 800;

describe('failed logins: block per email+IP, slow down per email (finding #3: anyone could lock a known account out)', () => {
  const ctx = useTestApp({ env: { LOGIN_FAILURE_LIMIT: '3/900', LOGIN_SLOWDOWN_MAX_MS: String(SLOWDOWN_MAX_MS) } });

  const loginFrom = (remoteAddress: string, email: string, password: string) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      remoteAddress,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email, password }),
    });
  const counters = async (email: string) =>
    (await ctx.db.query("SELECT key, failures FROM login_failures WHERE key LIKE '%' || $1 || '%' ORDER BY key", [email])).rows;

  it('#3: wrong passwords from many IPs never block the owner: the right password from a new IP gets in, after a short wait', async () => {
    const { input } = await registerUser(ctx.t.app);
    for (let i = 1; i <= 6; i++) {
      const response = await loginFrom(`198.51.100.${i}`, input.email, 'wrong-password-1');
      expect(response.statusCode, `attempt ${i}`).toBe(401);
      expect(response.json().code).toBe('INVALID_CREDENTIALS');
    }
    expect(await counters(input.email)).toContainEqual({ key: `email:${input.email}`, failures: 6 });

    const started = Date.now();
    const owner = await loginFrom('203.0.113.7', input.email, TEST_PASSWORD);
    expect(owner.statusCode).toBe(200);
    // 7 attempts against a limit of 3: 250 ms doubled three times, capped at the configured maximum.
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOWDOWN_MAX_MS - 20);
    expect(await counters(input.email)).not.toContainEqual(expect.objectContaining({ key: `email:${input.email}` }));
  });

  it('#3: an IPv6 caller is one caller per /64, as for rate limits: rotating addresses within it does not reset the block', async () => {
    const { input } = await registerUser(ctx.t.app);
    for (let i = 1; i <= 3; i++) expect((await loginFrom(`2001:db8:1:2::${i}`, input.email, 'wrong-password-1')).statusCode).toBe(401);
    const sameBlock = await loginFrom('2001:db8:1:2:ffff::9', input.email, TEST_PASSWORD);
    expect(sameBlock.statusCode).toBe(429);
    expect(sameBlock.json().code).toBe('RATE_LIMITED');
    expect((await loginFrom('2001:db8:1:3::1', input.email, TEST_PASSWORD)).statusCode).toBe(200);
  });

  it('#3: one IP past the limit is blocked with 429 for that email only, even with the right password', async () => {
    const { input } = await registerUser(ctx.t.app);
    const attacker = '192.0.2.66';
    for (let i = 0; i < 3; i++) expect((await loginFrom(attacker, input.email, 'wrong-password-1')).statusCode).toBe(401);
    const blocked = await loginFrom(attacker, input.email, TEST_PASSWORD);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(800);

    expect((await loginFrom('192.0.2.67', input.email, TEST_PASSWORD)).statusCode).toBe(200);
    // The block of that pair outlives the owner's login elsewhere.
    expect((await loginFrom(attacker, input.email, TEST_PASSWORD)).statusCode).toBe(429);
  });
});
