import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, GatehouseClient, GatehouseError, NetworkError, RateLimitError, TimeoutError } from '../../packages/sdk/src/index';
import { unique } from '../factories/db';
import { insertProduct } from '../factories/products';
import { insertApiKey } from '../factories/api-keys';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { FailingProxy } from '../helpers/failing-proxy';
import { subscriber, updateSubscription } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

/** Retries through a proxy that fails as told (issue 14, done-means 2). Timing bounds are generous: the machine is shared. */
describe('@gatehouse/sdk retries', () => {
  const ctx = useTestApp();
  let proxy: FailingProxy;
  let token: string;
  let userId: string;
  const client = (options: { retries?: number; timeoutMs?: number } = {}) => new GatehouseClient({ baseUrl: proxy.url, accessToken: token, ...options });
  const gaps = () => proxy.requests.slice(1).map((request, i) => request.at - proxy.requests[i]!.at);
  const keysNamed = async (name: string) => (await ctx.db.query('SELECT id FROM api_keys WHERE owner_id = $1 AND name = $2', [userId, name])).rows;

  beforeAll(async () => {
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    proxy = await FailingProxy.start(await ctx.t.app.getUrl());
    const user = await registerAndLogin(ctx.t.app);
    token = user.accessToken;
    userId = user.user.id;
  });
  afterAll(() => proxy.close());
  beforeEach(() => proxy.reset());

  it('a GET meeting a 503 with Retry-After: 1, then a reset connection, succeeds on the third attempt, having waited the Retry-After', async () => {
    const product = await insertProduct(ctx.db);
    proxy.failNext({ kind: 'unavailable', retryAfter: 1 }, { kind: 'reset' });

    const got = await client().products.get(product.id);

    expect(got.id).toBe(product.id);
    expect(proxy.requests.map((request) => request.action)).toEqual(['unavailable', 'reset', 'forward']);
    const [afterUnavailable, afterReset] = gaps();
    // Retry-After: 1 is waited in full; a reset has no Retry-After, so backoff: full jitter below 1 s on the second retry.
    expect(afterUnavailable).toBeGreaterThanOrEqual(950);
    expect(afterUnavailable).toBeLessThan(3000);
    expect(afterReset).toBeLessThan(2000);
  });

  it('gives up after the default 2 retries with the last answer as a GatehouseError carrying retryAfter', async () => {
    proxy.failNext({ kind: 'unavailable', retryAfter: 1 }, { kind: 'unavailable', retryAfter: 1 }, { kind: 'unavailable', retryAfter: 1 });
    const error = await client()
      .users.me()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ status: 503, code: 'HTTP_503', retryAfter: 1 });
    expect(proxy.requests).toHaveLength(3);
    for (const gap of gaps()) expect(gap).toBeGreaterThanOrEqual(950);
  });

  it('a POST gets an Idempotency-Key of its own, the same on every attempt, and is retried with it', async () => {
    const name = `retried-${unique()}`;
    proxy.failNext({ kind: 'unavailable', retryAfter: 1 }, { kind: 'reset' });

    const created = await client().apiKeys.create({ name, scope: 'read-only' });

    expect(proxy.requests).toHaveLength(3);
    const keys = proxy.requests.map((request) => request.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
    expect(await keysNamed(name)).toEqual([{ id: created.id }]);
    // The next POST has a key of its own.
    await client().apiKeys.create({ name: `${name}-2`, scope: 'read-only' });
    expect(proxy.requests[3]!.headers['idempotency-key']).not.toBe(keys[0]);
  });

  it('the caller may pass its own Idempotency-Key; a POST sent without one, and a PATCH, are never retried', async () => {
    await client().apiKeys.create({ name: `own-${unique()}`, scope: 'read-only' }, { idempotencyKey: 'order-4711' });
    expect(proxy.requests[0]!.headers['idempotency-key']).toBe('order-4711');
    proxy.reset();

    proxy.failNext({ kind: 'reset' });
    await expect(client().apiKeys.create({ name: `bare-${unique()}`, scope: 'read-only' }, { idempotencyKey: false })).rejects.toBeInstanceOf(NetworkError);
    expect(proxy.requests).toHaveLength(1);
    expect(proxy.requests[0]!.headers['idempotency-key']).toBeUndefined();
    proxy.reset();

    proxy.failNext({ kind: 'unavailable' });
    await expect(client().users.update({ firstName: 'Grace' })).rejects.toMatchObject({ status: 503 });
    expect(proxy.requests).toHaveLength(1);
  });

  it('a timeout is a TimeoutError, retried like a network failure', async () => {
    proxy.failNext({ kind: 'hang' }, { kind: 'hang' });
    const error = await client({ timeoutMs: 300, retries: 1 })
      .users.me()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(proxy.requests).toHaveLength(2);
  });

  it('a Retry-After too far off (over 60 s) is not slept through: the 429 is thrown at once for the caller to schedule', async () => {
    proxy.failNext({ kind: 'problem', status: 429, code: 'RATE_LIMITED', retryAfter: 120 });
    const started = performance.now();
    const error = await client()
      .users.me()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfter: 120 });
    expect(proxy.requests).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a POST whose answer was lost after the app created the resource is retried with the same key, replayed, and creates exactly one', async () => {
    const name = `lost-${unique()}`;
    proxy.failNext({ kind: 'lose-answer' });

    const created = await client().apiKeys.create({ name, scope: 'read-only' });

    expect(proxy.requests.map((request) => [request.action, request.upstream])).toEqual([
      ['lose-answer', { status: 201, replayed: false }],
      ['forward', { status: 201, replayed: true }],
    ]);
    expect(proxy.requests[1]!.headers['idempotency-key']).toBe(proxy.requests[0]!.headers['idempotency-key']);
    expect(await keysNamed(name)).toEqual([{ id: created.id }]);
    // The replay shows the secret again: the key works.
    expect((await new GatehouseClient({ baseUrl: proxy.url, apiKey: created.key }).users.me()).user.id).toBe(userId);
  });

  it('409 IDEMPOTENCY_KEY_IN_USE (the first attempt still running) is waited out and retried with the same key; another 409 is not retried', async () => {
    const name = `in-use-${unique()}`;
    proxy.failNext({ kind: 'problem', status: 409, code: 'IDEMPOTENCY_KEY_IN_USE', retryAfter: 1 });
    const created = await client().apiKeys.create({ name, scope: 'read-only' });
    expect(proxy.requests).toHaveLength(2);
    expect(gaps()[0]).toBeGreaterThanOrEqual(950);
    expect(await keysNamed(name)).toEqual([{ id: created.id }]);
    proxy.reset();

    proxy.failNext({ kind: 'problem', status: 409, code: 'CONFLICT' });
    await expect(client().apiKeys.create({ name: `conflict-${unique()}`, scope: 'read-only' })).rejects.toBeInstanceOf(ConflictError);
    expect(proxy.requests).toHaveLength(1);
  });

  it('a POST the server does not de-duplicate (no Idempotency-Key in the spec) is sent without a key and never retried', async () => {
    proxy.failNext({ kind: 'reset' });
    await expect(client().licenses.validate({ key: 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE', fingerprint: 'machine' })).rejects.toBeInstanceOf(NetworkError);
    expect(proxy.requests).toHaveLength(1);
    expect(proxy.requests[0]!.headers['idempotency-key']).toBeUndefined();
  });

  it("issue 19: an access check whose answer was lost is retried with its key and replayed: the customer's call counts once", async () => {
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    const customer = await subscriber(ctx.t.app, ctx.db);
    await updateSubscription(ctx.t.app, admin.accessToken, { userId: customer.user.id, subscriberId: customer.accountId, planCode: 'TRIAL' });
    const customerKey = (await insertApiKey(ctx.db, { ownerId: customer.user.id })).key;
    const verifyKey = (await insertApiKey(ctx.db, { ownerId: admin.user.id, scope: 'verify' })).key;
    proxy.failNext({ kind: 'lose-answer' });

    const decision = await new GatehouseClient({ baseUrl: proxy.url, apiKey: verifyKey }).access.verify({
      key: customerKey,
      apiVersion: 'v1',
      endpoint: 'orders.create',
    });

    expect(decision).toMatchObject({ allowed: true, quota: { limit: 5, remaining: 4 } });
    expect(proxy.requests.map((request) => [request.action, request.upstream])).toEqual([
      ['lose-answer', { status: 200, replayed: false }],
      ['forward', { status: 200, replayed: true }],
    ]);
    const counted = await ctx.db.query('SELECT used FROM quota_counters WHERE user_id = $1', [customer.user.id]);
    expect(counted.rows).toEqual([{ used: 1 }]);
  });
});
