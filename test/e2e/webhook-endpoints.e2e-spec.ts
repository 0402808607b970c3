import { describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/common/clock';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { OUTBOX_EVENT_TYPES } from '../../src/modules/outbox/outbox.events';
import { WebhookEndpointsRepository } from '../../src/modules/webhooks/webhook-endpoints.repository';
import { WebhookEndpointsService } from '../../src/modules/webhooks/webhook-endpoints.service';
import { insertApiKey } from '../factories/api-keys';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

const URL = 'https://hooks.example.com/gatehouse';

interface Created {
  id: string;
  secret: string;
  url: string;
  events: string[];
}

describe('Webhook endpoints', () => {
  const ctx = useTestApp();
  const call = callerFor(ctx);

  async function create(bearer: string, body: Record<string, unknown> = { url: URL, events: ['*'] }): Promise<Created> {
    const response = await call('POST', '/v1/webhooks/endpoints', bearer, body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json<Created>();
  }

  const storedRow = async (id: string) => (await ctx.db.query('SELECT * FROM webhook_endpoints WHERE id = $1', [id])).rows[0];

  it('creates, lists, reads, changes and deletes an endpoint; the secret is shown once and stored sealed', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const created = await create(owner.accessToken, { url: URL, events: ['license.activated', 'checkout.session.completed'], description: 'CRM sync' });
    expect(created).toMatchObject({
      url: URL,
      events: ['license.activated', 'checkout.session.completed'],
      description: 'CRM sync',
      enabled: true,
      scope: 'own',
    });
    expect(created.id).toMatch(/^whe_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);

    const row = await storedRow(created.id);
    expect(row).toMatchObject({ owner_id: owner.user.id, scope: 'own', enabled: true, previous_secret_sealed: null });
    expect(JSON.stringify(row)).not.toContain(created.secret.slice(6, 30));
    expect(ctx.t.app.get(SecretBox).open(row.secret_sealed)).toBe(created.secret);

    const fetched = await call('GET', `/v1/webhooks/endpoints/${created.id}`, owner.accessToken);
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json()).toMatchObject({ id: created.id, ownerId: owner.user.id, url: URL, description: 'CRM sync' });
    const listed = await call('GET', '/v1/webhooks/endpoints', owner.accessToken);
    expect(listed.json().items.map((item: { id: string }) => item.id)).toEqual([created.id]);

    const patched = await call('PATCH', `/v1/webhooks/endpoints/${created.id}`, owner.accessToken, {
      url: 'https://hooks.example.com:8443/v2',
      events: ['invoice.paid'],
      description: null,
      enabled: false,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      url: 'https://hooks.example.com:8443/v2',
      events: ['invoice.paid'],
      description: null,
      enabled: false,
      disabledReason: 'OWNER',
    });
    expect(patched.json().disabledAt).not.toBeNull();
    const enabled = await call('PATCH', `/v1/webhooks/endpoints/${created.id}`, owner.accessToken, { enabled: true });
    expect(enabled.json()).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, events: ['invoice.paid'] });

    for (const body of [fetched.body, listed.body, patched.body, enabled.body]) {
      expect(body).not.toContain(created.secret);
      expect(body).not.toContain('"secret');
    }

    expect((await call('DELETE', `/v1/webhooks/endpoints/${created.id}`, owner.accessToken)).statusCode).toBe(204);
    expect(await storedRow(created.id)).toBeUndefined();
    expect((await call('GET', `/v1/webhooks/endpoints/${created.id}`, owner.accessToken)).statusCode).toBe(404);
  });

  it("answers 404 for another user's endpoint on every route, and lists only one's own", async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const stranger = await registerAndLogin(ctx.t.app);
    const theirs = await create(owner.accessToken);
    await create(stranger.accessToken);
    const path = `/v1/webhooks/endpoints/${theirs.id}`;
    for (const [method, url, body] of [
      ['GET', path],
      ['PATCH', path, { enabled: false }],
      ['DELETE', path],
      ['POST', `${path}/rotate-secret`],
    ] as const) {
      const response = await call(method, url, stranger.accessToken, body);
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
    const row = await storedRow(theirs.id);
    expect(row).toMatchObject({ enabled: true, previous_secret_sealed: null });
    expect(ctx.t.app.get(SecretBox).open(row.secret_sealed)).toBe(theirs.secret);
    const listed = await call('GET', '/v1/webhooks/endpoints', stranger.accessToken);
    expect(listed.json().items.map((item: { ownerId: string }) => item.ownerId)).toEqual([stranger.user.id]);
  });

  it('lets only an ADMIN subscribe to every user’s events (scope all), and an ADMIN sees every endpoint', async () => {
    const user = await registerAndLogin(ctx.t.app);
    const denied = await call('POST', '/v1/webhooks/endpoints', user.accessToken, { url: URL, events: ['*'], scope: 'all' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('FORBIDDEN');
    expect((await ctx.db.query('SELECT 1 FROM webhook_endpoints WHERE owner_id = $1', [user.user.id])).rowCount).toBe(0);

    const admin = await registerAdmin(ctx.t.app, ctx.db);
    const all = await create(admin.accessToken, { url: URL, events: ['*'], scope: 'all' });
    expect((await storedRow(all.id)).scope).toBe('all');
    const users = await create(user.accessToken);
    const seen = await call('GET', `/v1/webhooks/endpoints?ownerId=${user.user.id}`, admin.accessToken);
    expect(seen.json().items.map((item: { id: string }) => item.id)).toEqual([users.id]);
    expect((await call('PATCH', `/v1/webhooks/endpoints/${users.id}`, admin.accessToken, { enabled: false })).statusCode).toBe(200);
  });

  it('lets a read-write key manage endpoints and a read-only key only read them', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const readWrite = await insertApiKey(ctx.db, { ownerId: owner.user.id, scope: 'read-write' });
    const readOnly = await insertApiKey(ctx.db, { ownerId: owner.user.id, scope: 'read-only' });
    const created = await create(readWrite.key);
    const refused = await call('POST', '/v1/webhooks/endpoints', readOnly.key, { url: URL, events: ['*'] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('INSUFFICIENT_SCOPE');
    expect((await call('POST', `/v1/webhooks/endpoints/${created.id}/rotate-secret`, readOnly.key)).statusCode).toBe(403);
    expect((await call('GET', `/v1/webhooks/endpoints/${created.id}`, readOnly.key)).statusCode).toBe(200);
  });

  it('pages the list by cursor', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const box = ctx.t.app.get(SecretBox);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await insertWebhookEndpoint(ctx.db, box, { ownerId: owner.user.id })).id);
    const first = (await call('GET', '/v1/webhooks/endpoints?limit=2', owner.accessToken)).json();
    expect(first.items.map((item: { id: string }) => item.id)).toEqual(ids.slice(0, 2));
    const second = (await call('GET', `/v1/webhooks/endpoints?limit=2&cursor=${first.nextCursor}`, owner.accessToken)).json();
    expect(second).toMatchObject({ items: [{ id: ids[2] }], nextCursor: null });
  });

  it('rotates the secret: the new one is shown once, the old one keeps signing for 24 h by the clock', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const created = await create(owner.accessToken);
    const now = new Date('2031-03-01T12:00:00.000Z');
    const clock = vi.spyOn(ctx.t.app.get(Clock), 'now').mockReturnValue(now);
    try {
      const rotated = await call('POST', `/v1/webhooks/endpoints/${created.id}/rotate-secret`, owner.accessToken);
      expect(rotated.statusCode, rotated.body).toBe(201);
      const { secret, previousSecretExpiresAt } = rotated.json();
      expect(secret).toMatch(/^whsec_/);
      expect(secret).not.toBe(created.secret);
      expect(previousSecretExpiresAt).toBe('2031-03-02T12:00:00.000Z');

      const row = await storedRow(created.id);
      const box = ctx.t.app.get(SecretBox);
      expect([box.open(row.secret_sealed), box.open(row.previous_secret_sealed)]).toEqual([secret, created.secret]);
      expect(row.previous_secret_expires_at.toISOString()).toBe('2031-03-02T12:00:00.000Z');

      const service = ctx.t.app.get(WebhookEndpointsService);
      const endpoint = (await ctx.t.app.get(WebhookEndpointsRepository).findOwned({ userId: owner.user.id }, created.id))!;
      clock.mockReturnValue(new Date('2031-03-02T11:59:59.000Z'));
      expect(service.signingSecrets(endpoint)).toEqual([secret, created.secret]);
      clock.mockReturnValue(new Date('2031-03-02T12:00:00.000Z'));
      expect(service.signingSecrets(endpoint)).toEqual([secret]);

      const fetched = await call('GET', `/v1/webhooks/endpoints/${created.id}`, owner.accessToken);
      expect(fetched.json().previousSecretExpiresAt).toBe('2031-03-02T12:00:00.000Z');
      expect(fetched.body).not.toContain(secret);
      expect(fetched.body).not.toContain(created.secret);
    } finally {
      clock.mockRestore();
    }
  });

  it('publishes every event type with a description and the JSON Schema of its data.object', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const response = await call('GET', '/v1/webhooks/event-types', owner.accessToken);
    expect(response.statusCode).toBe(200);
    const items: { type: string; description: string; schema: { type: string; properties: Record<string, unknown>; required: string[] } }[] =
      response.json().items;
    expect(items.map((item) => item.type).sort()).toEqual([...OUTBOX_EVENT_TYPES, 'ping'].sort());
    for (const item of items) {
      expect(item.description.length, item.type).toBeGreaterThan(10);
      expect(item.schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' });
      expect(Object.keys(item.schema.properties).length, item.type).toBeGreaterThan(0);
    }
    expect(items.find((item) => item.type === 'ping')!.schema.required.sort()).toEqual(['endpointId', 'message']);
    expect(items.find((item) => item.type === 'checkout.session.completed')!.schema.properties).toHaveProperty('licenseIds');
  });

  it('refuses an unknown event type with 422 naming the field and its index, on create and on patch', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const bad = await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: URL, events: ['invoice.paid', 'invoice.created'] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([expect.objectContaining({ field: 'events.1', code: 'INVALID_VALUE' })]);
    const mixed = await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: URL, events: ['*', 'invoice.paid'] });
    expect(mixed.statusCode).toBe(422);
    expect(mixed.json().errors[0].field).toBe('events');
    expect((await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: URL, events: [] })).statusCode).toBe(422);
    expect((await ctx.db.query('SELECT 1 FROM webhook_endpoints WHERE owner_id = $1', [owner.user.id])).rowCount).toBe(0);

    const created = await create(owner.accessToken);
    const patched = await call('PATCH', `/v1/webhooks/endpoints/${created.id}`, owner.accessToken, { events: ['nope'] });
    expect(patched.statusCode).toBe(422);
    expect(patched.json().errors[0].field).toBe('events.0');
    expect((await storedRow(created.id)).events).toEqual(['*']);
  });

  it.each([
    ['http://hooks.example.com/x', 'Must be an https:// URL'],
    ['https://user:pass@hooks.example.com/x', 'credentials'],
    ['https://hooks.example.com:22/x', 'Port 22'],
    ['https://127.0.0.1/x', 'not a public address'],
    ['https://10.0.0.1/x', 'not a public address'],
    ['https://169.254.169.254/latest/meta-data', 'not a public address'],
    ['https://100.64.0.1/x', 'not a public address'],
    ['https://[::1]/x', 'not a public address'],
    ['https://127.1/x', 'not a public address'],
    ['https://0x7f000001/x', 'not a public address'],
    ['https://2130706433/x', 'not a public address'],
    ['https://[::ffff:127.0.0.1]/x', 'not a public address'],
  ])('refuses %s with 422 on url, on create and on patch', async (url, reason) => {
    const owner = await registerAndLogin(ctx.t.app);
    const response = await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url, events: ['*'] });
    expect(response.statusCode).toBe(422);
    expect(response.json().errors).toEqual([{ field: 'url', code: 'INVALID_VALUE', message: expect.stringContaining(reason) }]);
    expect((await ctx.db.query('SELECT 1 FROM webhook_endpoints WHERE owner_id = $1', [owner.user.id])).rowCount).toBe(0);

    const created = await create(owner.accessToken);
    const patched = await call('PATCH', `/v1/webhooks/endpoints/${created.id}`, owner.accessToken, { url });
    expect(patched.statusCode).toBe(422);
    expect(patched.json().errors[0]).toMatchObject({ field: 'url', message: expect.stringContaining(reason) });
    expect((await storedRow(created.id)).url).toBe(URL);
  });

  it('refuses a URL that percent-encoding makes longer than the column, with 422 rather than a failed insert', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const response = await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: `https://hooks.example.com/${'é'.repeat(500)}`, events: ['*'] });
    expect(response.statusCode).toBe(422);
    expect(response.json().errors).toEqual([{ field: 'url', code: 'INVALID_VALUE', message: 'Longer than 2048 characters' }]);
  });
});

describe('Webhook endpoints where insecure URLs and private networks are allowed (development, tests)', () => {
  const ctx = useTestApp({ env: { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } });
  const call = callerFor(ctx);

  it('accepts an http:// URL on a loopback address, still refusing credentials and low ports', async () => {
    const owner = await registerAndLogin(ctx.t.app);
    const created = await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: 'http://127.0.0.1:9000/hook', events: ['ping'] });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().url).toBe('http://127.0.0.1:9000/hook');
    expect((await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: 'http://127.0.0.1:22/', events: ['ping'] })).statusCode).toBe(422);
    expect((await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: 'http://a:b@127.0.0.1:9000/', events: ['ping'] })).statusCode).toBe(422);
  });
});
