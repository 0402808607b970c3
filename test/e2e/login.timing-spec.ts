import { describe, expect, it } from 'vitest';
import { registerUser } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2;
};

/**
 * An unknown email must not answer faster than a known one with a wrong password, or the timing
 * tells which emails have accounts. The two kinds of attempt are interleaved so that load from
 * other test files affects both alike.
 */
describe('login timing', () => {
  const ctx = useTestApp({ env: { LOGIN_FAILURE_LIMIT: '1000/900' } });

  it('takes as long for an unknown email as for a wrong password (medians of 20 within 25%)', async () => {
    const { input } = await registerUser(ctx.t.app);
    const attempt = async (email: string) => {
      const started = process.hrtime.bigint();
      const response = await ctx.t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: JSON.stringify({ email, password: 'definitely-wrong-password' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode).toBe(401);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    await attempt(input.email);
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 20; i++) {
      known.push(await attempt(input.email));
      unknown.push(await attempt(`nobody-${i}@example.com`));
    }
    const ratio = median(unknown) / median(known);
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThan(1.25);
  });
});
