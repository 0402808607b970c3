import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Retention } from '../../src/common/background';
import { WebhookDispatcher } from '../../src/modules/webhooks/webhook-dispatcher';
import { insertWebhookAttempt, insertWebhookDelivery } from '../factories/webhook-deliveries';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { setClock } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const DAY = 86_400_000;

interface DeliveryView {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: string;
  attemptCount: number;
  completedAt: string | null;
  payload: { id: string; type: string; data: { object: Record<string, unknown> } };
  attempts: { statusCode: number | null; responseBody: string | null; durationMs: number; failure: string | null }[];
}

describe('outbound webhooks: inspecting and replaying deliveries (issue 12)', () => {
  let receiver: WebhookReceiver;
  const env: Record<string, string> = { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000' };
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  const ctx = useTestApp({ env });
  afterAll(() => receiver.close());
  afterEach(() => vi.restoreAllMocks());

  const call = callerFor(ctx);
  const tick = () => ctx.t.app.get(WebhookDispatcher).tick();

  /** A signed-in user with an endpoint on its own path of the receiver. */
  async function subscribed() {
    const user = await registerAndLogin(ctx.t.app);
    const path = `/hooks/${randomBytes(4).toString('hex')}`;
    const created = await call('POST', '/v1/webhooks/endpoints', user.accessToken, { url: `${receiver.baseUrl}${path}`, events: ['*'] });
    expect(created.statusCode, created.body).toBe(201);
    const endpoint = created.json<{ id: string; secret: string }>();
    const received = () => receiver.requests.filter((request) => request.path === path);
    const delivery = (columns: Parameters<typeof insertWebhookDelivery>[1] extends infer C ? Partial<C> : never = {}) =>
      insertWebhookDelivery(ctx.db, { endpointId: endpoint.id, ownerId: user.user.id, ...columns });
    return { user, token: user.accessToken, endpoint, received, delivery };
  }

  const rowsOf = async (endpointId: string) =>
    (await ctx.db.query('SELECT id, status FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id', [endpointId])).rows as { id: string; status: string }[];

  it('a test ping answered 500 then 200: the delivery lists and reads with both attempts, newest first', async () => {
    const { token, endpoint, received } = await subscribed();
    receiver.answer({ status: 500, body: 'boom' });
    const tested = await call('POST', `/v1/webhooks/endpoints/${endpoint.id}/test`, token);
    expect(tested.statusCode, tested.body).toBe(200);
    const first = tested.json<DeliveryView>();
    expect(first).toMatchObject({ endpointId: endpoint.id, eventType: 'ping', status: 'PENDING', attemptCount: 1, completedAt: null });
    expect(first.attempts).toEqual([expect.objectContaining({ statusCode: 500, responseBody: 'boom' })]);

    setClock(ctx.t.app, new Date(Date.now() + 10_000));
    await tick();
    expect(received()).toHaveLength(2);
    expect(new Set(received().map((request) => request.headers['webhook-id']))).toEqual(new Set([first.eventId]));

    const got = await call('GET', `/v1/webhooks/deliveries/${first.id}`, token);
    expect(got.statusCode, got.body).toBe(200);
    const view = got.json<DeliveryView>();
    expect(view).toMatchObject({ id: first.id, status: 'SUCCEEDED', attemptCount: 2, completedAt: expect.any(String) });
    expect(view.attempts.map((attempt) => attempt.statusCode)).toEqual([500, 200]);
    expect(view.payload).toMatchObject({ id: first.eventId, type: 'ping', data: { object: { endpointId: endpoint.id } } });

    const later = (await call('POST', `/v1/webhooks/endpoints/${endpoint.id}/test`, token)).json<DeliveryView>();
    const page = (await call('GET', `/v1/webhooks/deliveries?endpointId=${endpoint.id}`, token)).json<{ items: DeliveryView[] }>();
    expect(page.items.map((item) => item.id)).toEqual([later.id, first.id]);
    expect(page.items[1]!.attempts.map((attempt) => attempt.statusCode)).toEqual([500, 200]);
  });

  it('a test ping reaches the receiver, verified by standardwebhooks with the endpoint secret', async () => {
    const { token, endpoint, received } = await subscribed();
    const tested = await call('POST', `/v1/webhooks/endpoints/${endpoint.id}/test`, token);
    expect(tested.statusCode, tested.body).toBe(200);
    expect(tested.json<DeliveryView>()).toMatchObject({ status: 'SUCCEEDED', attempts: [{ statusCode: 200 }] });
    expect(received()).toHaveLength(1);
    const [request] = received();
    const verified = new Webhook(endpoint.secret).verify(request!.body, request!.headers as Record<string, string>);
    expect(verified).toMatchObject({ object: 'event', type: 'ping', data: { object: { endpointId: endpoint.id, message: expect.any(String) } } });
  });

  it('filters by endpoint, event type and status, and pages newest first', async () => {
    const { token, endpoint, delivery } = await subscribed();
    const other = await call('POST', '/v1/webhooks/endpoints', token, { url: `${receiver.baseUrl}/other`, events: ['*'] });
    const otherId = other.json<{ id: string }>().id;
    const failed = await delivery({ eventType: 'license.activated', status: 'FAILED' });
    const succeeded = await delivery({ eventType: 'license.activated', status: 'SUCCEEDED' });
    const pending = await delivery({ eventType: 'license.revoked' });
    const elsewhere = await delivery({ endpointId: otherId, eventType: 'license.activated' });
    const ids = async (query: string) =>
      (await call('GET', `/v1/webhooks/deliveries?${query}`, token)).json<{ items: { id: string }[]; nextCursor: string | null }>();

    expect((await ids('')).items.map((item) => item.id)).toEqual([elsewhere.id, pending.id, succeeded.id, failed.id]);
    expect((await ids(`endpointId=${endpoint.id}`)).items.map((item) => item.id)).toEqual([pending.id, succeeded.id, failed.id]);
    expect((await ids(`endpointId=${endpoint.id}&eventType=license.activated`)).items.map((item) => item.id)).toEqual([succeeded.id, failed.id]);
    expect((await ids('status=FAILED')).items.map((item) => item.id)).toEqual([failed.id]);
    const firstPage = await ids(`endpointId=${endpoint.id}&limit=2`);
    expect(firstPage.items.map((item) => item.id)).toEqual([pending.id, succeeded.id]);
    expect((await ids(`endpointId=${endpoint.id}&limit=2&cursor=${firstPage.nextCursor}`)).items.map((item) => item.id)).toEqual([failed.id]);
    expect((await call('GET', '/v1/webhooks/deliveries?status=LOST', token)).statusCode).toBe(422);
  });

  it("another user's delivery or endpoint is 404 everywhere and nothing is sent; an ADMIN sees everyone's", async () => {
    const owner = await subscribed();
    const mine = await owner.delivery({ status: 'FAILED' });
    const stranger = await registerAndLogin(ctx.t.app);
    const theirs = await subscribed();
    const theirDelivery = await theirs.delivery();

    for (const [method, url, body] of [
      ['GET', `/v1/webhooks/deliveries/${mine.id}`],
      ['POST', `/v1/webhooks/deliveries/${mine.id}/retry`],
      ['POST', `/v1/webhooks/endpoints/${owner.endpoint.id}/recover`, { since: new Date(Date.now() - DAY).toISOString() }],
      ['POST', `/v1/webhooks/endpoints/${owner.endpoint.id}/test`],
    ] as const) {
      const answer = await call(method, url, stranger.accessToken, body);
      expect(answer.statusCode, `${method} ${url}: ${answer.body}`).toBe(404);
    }
    expect((await call('GET', '/v1/webhooks/deliveries', stranger.accessToken)).json<{ items: unknown[] }>().items).toEqual([]);
    expect(owner.received()).toEqual([]);
    expect(await rowsOf(owner.endpoint.id)).toEqual([{ id: mine.id, status: 'FAILED' }]);

    const admin = await registerAdmin(ctx.t.app, ctx.db);
    expect((await call('GET', `/v1/webhooks/deliveries/${mine.id}`, admin.accessToken)).statusCode).toBe(200);
    const all = (await call('GET', '/v1/webhooks/deliveries?limit=100', admin.accessToken)).json<{ items: { id: string }[] }>().items.map((item) => item.id);
    expect(all).toEqual(expect.arrayContaining([mine.id, theirDelivery.id]));
  });

  it('retry makes a new attempt at once, even of a failed delivery; one held by an attempt in flight is 409', async () => {
    const { token, delivery, received } = await subscribed();
    const failed = await delivery({ status: 'FAILED', attemptCount: 8, nextAttemptAt: null, completedAt: new Date(), lastError: 'HTTP 500' });
    await insertWebhookAttempt(ctx.db, failed.id, { statusCode: 500 });
    const retried = await call('POST', `/v1/webhooks/deliveries/${failed.id}/retry`, token);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json<DeliveryView>()).toMatchObject({ status: 'SUCCEEDED', attemptCount: 9, lastError: null });
    expect(retried.json<DeliveryView>().attempts.map((attempt) => attempt.statusCode)).toEqual([500, 200]);
    expect(received().map((request) => request.headers['webhook-id'])).toEqual([failed.eventId]);

    const inFlight = await delivery({ leaseUntil: new Date(Date.now() + 60_000), attemptCount: 1 });
    const conflict = await call('POST', `/v1/webhooks/deliveries/${inFlight.id}/retry`, token);
    expect(conflict.statusCode, conflict.body).toBe(409);
    expect(received()).toHaveLength(1);
    expect((await ctx.db.query('SELECT attempt_count FROM webhook_deliveries WHERE id = $1', [inFlight.id])).rows).toEqual([{ attempt_count: 1 }]);
  });

  it('recover re-sends the failed deliveries created since the time, not older ones nor succeeded ones; a future or malformed time is 422', async () => {
    const { token, endpoint, delivery, received } = await subscribed();
    const now = Date.now();
    const recent = await delivery({ status: 'FAILED', nextAttemptAt: null, completedAt: new Date(now), createdAt: new Date(now - 3_600_000) });
    const old = await delivery({ status: 'FAILED', nextAttemptAt: null, completedAt: new Date(now), createdAt: new Date(now - 3 * DAY) });
    const done = await delivery({ status: 'SUCCEEDED', nextAttemptAt: null, completedAt: new Date(now), createdAt: new Date(now - 3_600_000) });
    const url = `/v1/webhooks/endpoints/${endpoint.id}/recover`;

    const recovered = await call('POST', url, token, { since: new Date(now - DAY).toISOString() });
    expect(recovered.statusCode, recovered.body).toBe(202);
    expect(recovered.json()).toEqual({ requeued: 1 });
    await tick();
    expect(received().map((request) => request.headers['webhook-id'])).toEqual([recent.eventId]);
    const statuses = Object.fromEntries((await rowsOf(endpoint.id)).map((row) => [row.id, row.status]));
    expect(statuses).toEqual({ [recent.id]: 'SUCCEEDED', [old.id]: 'FAILED', [done.id]: 'SUCCEEDED' });

    for (const since of [new Date(now + DAY).toISOString(), 'yesterday']) {
      const refused = await call('POST', url, token, { since });
      expect(refused.statusCode, refused.body).toBe(422);
    }
    expect(received()).toHaveLength(1);
  });

  it('retention: deliveries completed more than 30 days ago go with their attempts; newer and pending ones stay', async () => {
    const { endpoint, delivery } = await subscribed();
    const now = new Date(Date.now() + 365 * DAY);
    const expired = await delivery({ status: 'SUCCEEDED', completedAt: new Date(now.getTime() - 31 * DAY) });
    await insertWebhookAttempt(ctx.db, expired.id);
    const kept = await delivery({ status: 'FAILED', completedAt: new Date(now.getTime() - 29 * DAY) });
    const pending = await delivery({ createdAt: new Date(now.getTime() - 40 * DAY) });
    setClock(ctx.t.app, now);
    await ctx.t.app.get(Retention).run('webhook deliveries completed over WEBHOOK_RETENTION_DAYS ago');
    expect((await rowsOf(endpoint.id)).map((row) => row.id)).toEqual([kept.id, pending.id]);
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM webhook_attempts WHERE delivery_id = $1', [expired.id])).rows).toEqual([{ n: 0 }]);
  });
});
