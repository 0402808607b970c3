import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndLogin } from '../factories/users';
import { redisAnswers, TEST_REDIS_URL } from '../helpers/redis-server';
import { freeTierOnConfiguredRateLimit } from '../factories/subscriptions';
import { createTestApp, createTestDatabase, TestApp, TestDatabase, useTestApp } from '../helpers/test-app';

const REDIS_URL = TEST_REDIS_URL;

describe('rate limits', () => {
  const ctx = useTestApp({ env: { RATE_LIMIT_PUBLIC: '30/60', RATE_LIMIT_LOGIN: '3/60', RATE_LIMIT_AUTHENTICATED: '5/60' } });
  // The free tier's plan without a rate limit of its own: RATE_LIMIT_AUTHENTICATED applies (the
  // metering tests cover a plan's own numbers).
  beforeAll(() => freeTierOnConfiguredRateLimit(ctx.db));

  const hit = (remoteAddress: string, headers: Record<string, string> = {}, url = '/problems/not-found') =>
    ctx.t.app.inject({ method: 'GET', url, remoteAddress, headers });

  it('sends the published headers, with Reset as a Unix timestamp, and refuses request 31 of 30 with 429 and Retry-After', async () => {
    const ip = '198.51.100.7';
    const before = Math.floor(Date.now() / 1000);
    const first = await hit(ip);
    expect(first.headers['x-ratelimit-limit']).toBe('30');
    expect(first.headers['x-ratelimit-remaining']).toBe('29');
    const reset = Number(first.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(before + 59);
    expect(reset).toBeLessThanOrEqual(before + 61);
    for (let i = 2; i <= 30; i++) expect((await hit(ip)).statusCode).toBe(200);
    const limited = await hit(ip);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(limited.json()).toMatchObject({ limit: 30, retryAfter: Number(limited.headers['retry-after']) });
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const ip = '198.51.100.8';
    for (let i = 0; i < 30; i++) await hit(ip, { 'x-forwarded-for': `203.0.113.${i}` });
    const spoofed = await hit(ip, { 'x-forwarded-for': '203.0.113.250' });
    expect(spoofed.statusCode).toBe(429);
  });

  it('counts IPv6 clients per /64', async () => {
    for (let i = 1; i <= 30; i++) await hit(`2001:db8:0:7::${i.toString(16)}`);
    expect((await hit('2001:db8:0:7::ffff')).statusCode).toBe(429);
    expect((await hit('2001:db8:0:8::1')).statusCode).toBe(200);
  });

  it('gives a route its own named limit (login: 3 per minute per IP)', async () => {
    const attempt = () =>
      ctx.t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '198.51.100.9',
        payload: JSON.stringify({ email: 'nobody@example.com', password: 'whatever-password' }),
        headers: { 'content-type': 'application/json' },
      });
    for (let i = 0; i < 3; i++) expect((await attempt()).statusCode).toBe(401);
    const limited = await attempt();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
  });

  it('counts authenticated routes per principal, not per IP', async () => {
    const a = await registerAndLogin(ctx.t.app);
    const b = await registerAndLogin(ctx.t.app);
    const me = (token: string) => hit('198.51.100.10', { authorization: `Bearer ${token}` }, '/v1/users/me');
    for (let i = 0; i < 5; i++) expect((await me(a.accessToken)).statusCode).toBe(200);
    expect((await me(a.accessToken)).statusCode).toBe(429);
    const other = await me(b.accessToken);
    expect(other.statusCode).toBe(200);
    expect(other.headers['x-ratelimit-limit']).toBe('5');
  });

  it('issue 8 (low): counts a user once, whether by access token or by any of its API keys', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const keys: string[] = [];
    for (const name of ['one', 'two']) {
      const created = await ctx.t.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        payload: JSON.stringify({ name, scope: 'read-only' }),
        headers: { authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json' },
      });
      expect(created.statusCode).toBe(201);
      keys.push(created.json().key);
    }
    const me = (bearer: string) => hit('198.51.100.13', { authorization: `Bearer ${bearer}` }, '/v1/users/me');
    // Two creates above, and three reads here: the owner's 5 requests of the minute.
    for (const bearer of [owner.accessToken, ...keys]) expect((await me(bearer)).statusCode).toBe(200);
    const limited = await me(keys[1]!);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
  });

  it("one route's limit does not block the same client on other routes", async () => {
    const ip = '198.51.100.12';
    const attempt = () =>
      ctx.t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: ip,
        payload: JSON.stringify({ email: 'nobody@example.com', password: 'whatever-password' }),
        headers: { 'content-type': 'application/json' },
      });
    for (let i = 0; i < 4; i++) await attempt();
    expect((await attempt()).statusCode).toBe(429);
    const elsewhere = await hit(ip);
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.headers['x-ratelimit-limit']).toBe('30');
  });

  it('never limits the health probes', async () => {
    for (let i = 0; i < 40; i++) expect((await hit('198.51.100.11', {}, '/health/live')).statusCode).toBe(200);
  });
});

describe('rate limits behind a trusted proxy', () => {
  const ctx = useTestApp({ env: { RATE_LIMIT_PUBLIC: '2/60', TRUST_PROXY: '10.0.0.0/8' } });

  it('counts the right-most untrusted X-Forwarded-For hop', async () => {
    const viaProxy = (forwardedFor: string) =>
      ctx.t.app.inject({ method: 'GET', url: '/problems/not-found', remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': forwardedFor } });
    expect((await viaProxy('203.0.113.1')).statusCode).toBe(200);
    expect((await viaProxy('198.51.100.99, 203.0.113.1')).statusCode).toBe(200);
    expect((await viaProxy('203.0.113.1')).statusCode).toBe(429);
    expect((await viaProxy('203.0.113.2')).statusCode).toBe(200);
  });
});

describe('rate limits shared through Redis', async () => {
  // Redis runs on the CI machines; REQUIRE_REDIS=1 (set by .ci/run) turns a missing Redis into a failure.
  const available = await redisAnswers();
  if (!available && process.env.REQUIRE_REDIS === '1') throw new Error(`REQUIRE_REDIS=1 but no Redis answers at ${REDIS_URL}`);
  // Two instances on one database, so not useTestApp's single app.
  let database: TestDatabase;
  let instances: TestApp[] = [];
  beforeAll(async () => {
    if (!available) return;
    database = await createTestDatabase('redis');
    const env = { REDIS_URL, REDIS_KEY_PREFIX: `gatehouse-test-${randomBytes(6).toString('hex')}:`, RATE_LIMIT_PUBLIC: '30/60' };
    instances = await Promise.all([createTestApp({ database, env }), createTestApp({ database, env })]);
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    await database?.drop();
  });

  it.runIf(available)('two instances, 40 concurrent requests against 30 a minute: exactly 30 succeed', async () => {
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => instances[i % 2]!.app.inject({ method: 'GET', url: '/problems/not-found', remoteAddress: '198.51.100.50' })),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(30);
    expect(statuses.filter((status) => status === 429)).toHaveLength(10);
  });
});
