import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userInput } from '../factories/users';
import { TestRedisServer } from '../helpers/redis-server';
import { useTestApp } from '../helpers/test-app';

const COMMAND_TIMEOUT_MS = 300;

/** Polls `check` until it holds, for at most `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('#8 a Redis outage: rate-limited routes answer 503 with Retry-After, readiness follows Redis, both recover', () => {
  let redis: TestRedisServer;
  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });
  afterAll(async () => {
    await redis?.kill();
  });
  const ctx = useTestApp({
    get env() {
      return { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS), RATE_LIMIT_PUBLIC: '1000/60' };
    },
  });

  const limited = () => ctx.t.app.inject({ method: 'GET', url: '/problems/not-found', remoteAddress: '198.51.100.70' });
  const ready = () => ctx.t.app.inject({ method: 'GET', url: '/health/ready' });
  const register = (email: string) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: JSON.stringify(userInput({ email })),
      headers: { 'content-type': 'application/json' },
      remoteAddress: '198.51.100.71',
    });
  const usersWith = async (email: string) => (await ctx.db.query('SELECT 1 FROM users WHERE email = $1', [email])).rowCount;

  function expectUnavailable(response: Awaited<ReturnType<typeof limited>>) {
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  }

  it('is ready with Redis up and counts in Redis', async () => {
    expect((await limited()).statusCode).toBe(200);
    const response = await ready();
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', database: 'up', redis: 'up' });
  });

  it('a Redis that hangs (SIGSTOP): 503 after the command timeout, not a hang; nothing is written; then it recovers', async () => {
    redis.freeze();
    try {
      const started = Date.now();
      expectUnavailable(await limited());
      expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 1_500);

      const email = `hang-${Date.now()}@example.com`;
      expectUnavailable(await register(email));
      expect(await usersWith(email)).toBe(0);

      const probe = await ready();
      expect(probe.statusCode).toBe(503);
      expect(probe.headers['retry-after']).toBe('5');
    } finally {
      redis.thaw();
    }
    await eventually(async () => (await limited()).statusCode === 200);
    expect((await ready()).statusCode).toBe(200);
  });

  it('a Redis that is gone (SIGKILL): 503 at once, readiness 503, and both recover once it is back', async () => {
    await redis.kill();

    const started = Date.now();
    expectUnavailable(await limited());
    expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 1_500);
    const email = `down-${Date.now()}@example.com`;
    expectUnavailable(await register(email));
    expect(await usersWith(email)).toBe(0);
    expectUnavailable(await ready());
    // The liveness probe does not depend on Redis: the process is fine and must not be restarted.
    expect((await ctx.t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);

    await redis.restart();
    await eventually(async () => (await ready()).statusCode === 200);
    expect((await limited()).statusCode).toBe(200);
    expect((await register(email)).statusCode).toBe(201);
    expect(await usersWith(email)).toBe(1);
  });
});
