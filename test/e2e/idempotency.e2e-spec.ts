import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse as Response } from 'fastify';
import { Client } from 'pg';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock';
import { newId } from '../../src/lib/ids';
import { Retention } from '../../src/common/background';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { registerAndLogin } from '../factories/users';
import { useFakeStripe } from '../helpers/stripe-fakes';
import { useTestApp } from '../helpers/test-app';

const DAY_MS = 24 * 3_600_000;

describe('Idempotency-Key', () => {
  // Short, so a request held on a table lock fails (503) in a test's time.
  const ctx = useTestApp({ env: { DATABASE_LOCK_TIMEOUT_MS: '1500' } });
  let owner: Awaited<ReturnType<typeof registerAndLogin>>;
  beforeAll(async () => {
    owner = await registerAndLogin(ctx.t.app);
  });
  afterEach(() => vi.restoreAllMocks());

  let counter = 0;
  const newKey = () => `idem-${Date.now()}-${counter++}`;
  const post = (url: string, bearer: string | undefined, payload: unknown, key?: string, ip?: string) =>
    ctx.t.app.inject({
      method: 'POST',
      url,
      remoteAddress: ip,
      headers: {
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(key !== undefined ? { 'idempotency-key': key } : {}),
      },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    });
  const createKey = (key: string | undefined, body: Record<string, unknown> = { name: 'CI', scope: 'read-only' }, bearer = owner.accessToken) =>
    post('/v1/api-keys', bearer, body, key);
  const keyCount = async (userId: string) =>
    (await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys WHERE owner_id = $1', [userId])).rows[0]!.n;
  const storedRows = async () => (await ctx.db.query('SELECT * FROM idempotency_keys')).rows;
  const moveClock = (ms: number) => vi.spyOn(ctx.t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + ms));

  it('replays the first response byte for byte, a key shown once included, with Idempotent-Replayed; the body is sealed at rest', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const key = newKey();
    const first = await createKey(key, { name: 'CI', scope: 'read-only' }, user.accessToken);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const created = first.json<{ id: string; key: string }>();

    // The same body with its keys in another order is the same request.
    const replay = await createKey(key, { scope: 'read-only', name: 'CI' }, user.accessToken);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers['content-type']).toBe(first.headers['content-type']);
    expect(replay.rawPayload.equals(first.rawPayload)).toBe(true);
    expect(replay.json().key).toBe(created.key);
    expect(await keyCount(user.user.id)).toBe(1);

    const rows = (await ctx.db.query('SELECT response_status, response_body_sealed FROM idempotency_keys WHERE response_body_sealed LIKE $1', ['v1.%'])).rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.response_body_sealed).not.toContain(created.key);
    expect(JSON.stringify(await storedRows())).not.toContain(created.key.slice(10));
  });

  it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED, and creates nothing', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const key = newKey();
    expect((await createKey(key, { name: 'one', scope: 'read-only' }, user.accessToken)).statusCode).toBe(201);
    const reused = await createKey(key, { name: 'two', scope: 'read-only' }, user.accessToken);
    expect(reused.statusCode).toBe(422);
    expect(reused.headers['content-type']).toContain('application/problem+json');
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await keyCount(user.user.id)).toBe(1);
  });

  it('10 concurrent identical requests with one key create exactly one resource; the rest replay it or get 409', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const key = newKey();
    const responses = await Promise.all(Array.from({ length: 10 }, () => createKey(key, { name: 'race', scope: 'read-only' }, user.accessToken)));
    expect(await keyCount(user.user.id)).toBe(1);
    const created = responses.filter((response) => response.statusCode === 201);
    const original = created.filter((response) => response.headers['idempotent-replayed'] === undefined);
    expect(original).toHaveLength(1);
    for (const response of created) expect(response.body).toBe(original[0]!.body);
    for (const response of responses.filter((r) => r.statusCode !== 201)) {
      expect(response.statusCode).toBe(409);
      expect(response.json().code).toBe('IDEMPOTENCY_KEY_IN_USE');
      expect(response.headers['retry-after']).toBe('1');
    }
  });

  it('after 24 h the key is free again, and the purge drops it', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const key = newKey();
    const first = await createKey(key, { name: 'daily', scope: 'read-only' }, user.accessToken);
    expect(first.statusCode).toBe(201);

    moveClock(DAY_MS - 60_000);
    const stillStored = await createKey(key, { name: 'daily', scope: 'read-only' }, user.accessToken);
    expect(stillStored.headers['idempotent-replayed']).toBe('true');
    expect(stillStored.body).toBe(first.body);
    expect(await keyCount(user.user.id)).toBe(1);

    moveClock(DAY_MS + 60_000);
    const again = await createKey(key, { name: 'daily', scope: 'read-only' }, user.accessToken);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.json().id).not.toBe(first.json().id);
    expect(await keyCount(user.user.id)).toBe(2);

    // The purge at +48 h drops every row stored so far (the newest was claimed at +24 h).
    moveClock(2 * DAY_MS + 120_000);
    await ctx.t.app.get(Retention).run('expired idempotency keys');
    expect(await storedRows()).toEqual([]);
  });

  /** Holds writes to api_keys (reads go on) until the returned function commits. */
  async function lockApiKeys(): Promise<{ client: Client; release: () => Promise<void> }> {
    const client = new Client({ connectionString: ctx.t.database.url });
    await client.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE api_keys IN SHARE MODE');
    return {
      client,
      release: async () => {
        await client.query('COMMIT');
        await client.end();
      },
    };
  }

  async function waitForClaim(client: Client): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const { rows } = await client.query('SELECT 1 FROM idempotency_keys WHERE response_status IS NULL');
      if (rows.length > 0) return;
      await new Promise((done) => setTimeout(done, 10));
    }
    throw new Error('no claim appeared');
  }

  it('a 5xx is not stored: the key is freed and a retry with it runs again', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const key = newKey();
    const lock = await lockApiKeys();
    let failed: Response;
    try {
      failed = await createKey(key, { name: 'outage', scope: 'read-only' }, user.accessToken);
    } finally {
      await lock.release();
    }
    expect(failed.statusCode, failed.body).toBe(503);
    expect(await keyCount(user.user.id)).toBe(0);
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM idempotency_keys WHERE response_status IS NULL')).rows[0].n).toBe(0);

    const retried = await createKey(key, { name: 'outage', scope: 'read-only' }, user.accessToken);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await keyCount(user.user.id)).toBe(1);
  });

  it('while the first request is in flight, the same key gets 409 IDEMPOTENCY_KEY_IN_USE with Retry-After: 1, then its replay', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const key = newKey();
    const lock = await lockApiKeys();
    let first: Promise<Response>;
    try {
      first = createKey(key, { name: 'slow', scope: 'read-only' }, user.accessToken);
      await waitForClaim(lock.client);
      const busy = await createKey(key, { name: 'slow', scope: 'read-only' }, user.accessToken);
      expect(busy.statusCode).toBe(409);
      expect(busy.json().code).toBe('IDEMPOTENCY_KEY_IN_USE');
      expect(busy.headers['retry-after']).toBe('1');
      expect(busy.json().retryAfter).toBe(1);
    } finally {
      await lock.release();
    }
    const done = await first;
    expect(done.statusCode, done.body).toBe(201);
    const replay = await createKey(key, { name: 'slow', scope: 'read-only' }, user.accessToken);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(done.body);
    expect(await keyCount(user.user.id)).toBe(1);
  });

  it('a claim left in flight by a process that died frees its key once its 60 s lease runs out', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const key = newKey();
    expect((await createKey(key, { name: 'crash', scope: 'read-only' }, user.accessToken)).statusCode).toBe(201);
    // What a crash between the side effect and storing its response leaves: an unfinished claim.
    await ctx.db.query(
      "UPDATE idempotency_keys SET response_status = NULL, response_headers = NULL, response_body_sealed = NULL, lease_until = $1 WHERE response_status IS NOT NULL AND created_at > now() - interval '1 minute'",
      [new Date(Date.now() + 60_000)],
    );
    expect((await createKey(key, { name: 'crash', scope: 'read-only' }, user.accessToken)).statusCode).toBe(409);
    moveClock(61_000);
    const taken = await createKey(key, { name: 'crash', scope: 'read-only' }, user.accessToken);
    expect(taken.statusCode).toBe(201);
    expect(taken.headers['idempotent-replayed']).toBeUndefined();
  });

  it('is scoped to the caller: the same key from another user, API key or address is another key', async () => {
    const [a, b] = [await registerAndLogin(ctx.t.app), await registerAndLogin(ctx.t.app)];
    const key = newKey();
    const body = { name: 'shared key', scope: 'read-write' };
    const fromA = await createKey(key, body, a.accessToken);
    const fromB = await createKey(key, body, b.accessToken);
    expect([fromA.statusCode, fromB.statusCode]).toEqual([201, 201]);
    expect(fromB.headers['idempotent-replayed']).toBeUndefined();
    expect(fromB.json().id).not.toBe(fromA.json().id);

    // A's API key is a principal of its own: what A's session did with key K does not replay for it.
    const endpoint = { url: 'https://hooks.example.com/gatehouse', events: ['*'] };
    const bySession = await post('/v1/webhooks/endpoints', a.accessToken, endpoint, key);
    const byApiKey = await post('/v1/webhooks/endpoints', fromA.json().key, endpoint, key);
    expect([bySession.statusCode, byApiKey.statusCode]).toEqual([201, 201]);
    expect(byApiKey.headers['idempotent-replayed']).toBeUndefined();
    expect(byApiKey.json().secret).not.toBe(bySession.json().secret);
    const endpoints = await ctx.db.query('SELECT count(*)::int AS n FROM webhook_endpoints WHERE owner_id = $1', [a.user.id]);
    expect(endpoints.rows[0].n).toBe(2);

    // Public license activation: scoped by client address.
    const license = await insertLicense(ctx.db, { productId: (await insertProduct(ctx.db, { maxActivations: 5 })).id, userId: a.user.id });
    const activate = (fingerprint: string, ip: string) => post('/v1/licenses/activate', undefined, { key: license.key, fingerprint }, key, ip);
    const here = await activate('machine-1', '198.51.100.7');
    expect(here.statusCode, here.body).toBe(201);
    const replayed = await activate('machine-1', '198.51.100.7');
    expect(replayed.statusCode).toBe(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    const elsewhere = await activate('machine-2', '203.0.113.9');
    expect(elsewhere.statusCode).toBe(201);
    expect(elsewhere.headers['idempotent-replayed']).toBeUndefined();
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM activations WHERE license_id = $1', [license.id]);
    expect(rows[0].n).toBe(2);
  });

  it('stores a refusal the handler made (404), but not a validation failure: fixing the input with the same key works', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const key = newKey();
    const invalid = await createKey(key, { name: '', scope: 'read-only' }, user.accessToken);
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().code).toBe('VALIDATION_FAILED');
    const fixed = await createKey(key, { name: 'fixed', scope: 'read-only' }, user.accessToken);
    expect(fixed.statusCode).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();

    const rotateKey = newKey();
    const missing = `/v1/api-keys/${newId('key')}/rotate`;
    const notFound = await post(missing, user.accessToken, undefined, rotateKey);
    expect(notFound.statusCode, notFound.body).toBe(404);
    const again = await post(missing, user.accessToken, undefined, rotateKey);
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(notFound.body);
  });

  it('a body nested too deep to hash is refused by validation (422 TOO_DEEP), not a 500', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const response = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json', 'idempotency-key': newKey() },
      payload: `{"name":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`,
    });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json().errors[0].code).toBe('TOO_DEEP');
    expect(await keyCount(user.user.id)).toBe(0);
  });

  it('refuses a malformed key with 400 naming the header, and does nothing', async () => {
    const user = await registerAndLogin(ctx.t.app);
    for (const [bad, code] of [
      ['', 'TOO_SMALL'],
      ['k'.repeat(256), 'TOO_BIG'],
      ['caf\u00e9', 'INVALID_FORMAT'],
    ] as const) {
      const response = await createKey(bad, { name: 'bad', scope: 'read-only' }, user.accessToken);
      expect(response.statusCode, bad).toBe(400);
      expect(response.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID', errors: [{ field: 'Idempotency-Key', code }] });
    }
    expect(await keyCount(user.user.id)).toBe(0);
    expect((await createKey('k'.repeat(255), { name: 'longest', scope: 'read-only' }, user.accessToken)).statusCode).toBe(201);
  });

  it('without the header, nothing is claimed or stored', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const before = (await storedRows()).length;
    expect((await createKey(undefined, { name: 'plain', scope: 'read-only' }, user.accessToken)).statusCode).toBe(201);
    expect((await createKey(undefined, { name: 'plain', scope: 'read-only' }, user.accessToken)).statusCode).toBe(201);
    expect(await keyCount(user.user.id)).toBe(2);
    expect((await storedRows()).length).toBe(before);
  });

  it('the spec documents the header, the replay header and the misuse problems on each POST with side effects', async () => {
    const served = (await ctx.t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const committed = JSON.parse(readFileSync(join(__dirname, '../../openapi/openapi.json'), 'utf8'));
    const operations = [
      '/v1/checkout/sessions',
      '/v1/subscriptions/checkout',
      '/v1/accounts/update-subscription',
      '/v1/api-keys',
      '/v1/api-keys/{id}/rotate',
      '/v1/licenses',
      '/v1/licenses/activate',
      '/v1/webhooks/endpoints',
      '/v1/webhooks/endpoints/{id}/rotate-secret',
      '/v1/webhooks/deliveries/{id}/retry',
      '/v1/webhooks/endpoints/{id}/recover',
      '/v1/webhooks/endpoints/{id}/test',
    ];
    for (const document of [served, committed]) {
      expect(document.components.headers['Idempotent-Replayed'].schema).toEqual({ type: 'string', enum: ['true'] });
      for (const path of operations) {
        const operation = document.paths[path]?.post;
        expect(operation, path).toBeDefined();
        expect(operation.parameters, path).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }));
        expect(operation.responses['409']['x-problem-codes'], path).toContain('IDEMPOTENCY_KEY_IN_USE');
        expect(operation.responses['409'].headers['Retry-After'], path).toBeDefined();
        expect(operation.responses['422']['x-problem-codes'], path).toContain('IDEMPOTENCY_KEY_REUSED');
        expect(operation.responses['400']['x-problem-codes'], path).toContain('IDEMPOTENCY_KEY_INVALID');
        const success = Object.entries(operation.responses as Record<string, { headers?: Record<string, unknown> }>).find(([status]) => status.startsWith('2'));
        expect(success?.[1].headers?.['Idempotent-Replayed'], path).toBeDefined();
      }
      // Opt-in: an operation without side effects to repeat does not take the header.
      expect(JSON.stringify(document.paths['/v1/licenses/validate'].post.parameters ?? [])).not.toContain('Idempotency-Key');
    }
  });
});

describe('Idempotency-Key on a purchase', () => {
  const APP = 'https://app.example.com';
  const { stripe, env } = useFakeStripe({ ALLOWED_LINK_ORIGINS: APP });
  const ctx = useTestApp({ env });

  it('a checkout retried with its key is one order and one Stripe session; the retry gets the same session', async () => {
    const buyer = await registerAndLogin(ctx.t.app);
    const product = await insertProduct(ctx.db, { stock: 10 });
    const checkout = () =>
      ctx.t.app.inject({
        method: 'POST',
        url: '/v1/checkout/sessions',
        headers: { authorization: `Bearer ${buyer.accessToken}`, 'content-type': 'application/json', 'idempotency-key': 'order-attempt-1' },
        payload: JSON.stringify({ items: [{ productId: product.id, quantity: 2 }], successUrl: `${APP}/thanks`, cancelUrl: `${APP}/cart` }),
      });
    const sessionsBefore = stripe.requests.filter((request) => request.path === '/v1/checkout/sessions').length;
    const first = await checkout();
    expect(first.statusCode, first.body).toBe(201);
    const retried = await checkout();
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.body).toBe(first.body);
    const orders = await ctx.db.query('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [buyer.user.id]);
    expect(orders.rows[0].n).toBe(1);
    expect(stripe.requests.filter((request) => request.path === '/v1/checkout/sessions').length).toBe(sessionsBefore + 1);
  });
});
