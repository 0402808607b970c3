import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { RETRY_DELAYS_SECONDS } from '../../src/modules/webhooks/webhook-attempts';
import { WebhookDeliveriesRepository } from '../../src/modules/webhooks/webhook-deliveries.repository';
import { WebhookDeliveriesService } from '../../src/modules/webhooks/webhook-deliveries.service';
import { WebhookDispatcher } from '../../src/modules/webhooks/webhook-dispatcher';
import { WebhookEndpointsRepository } from '../../src/modules/webhooks/webhook-endpoints.repository';
import { putOnPlan } from '../factories/subscriptions';
import { insertUser } from '../factories/users';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { userPrincipal } from '../helpers/principals';
import { setClock } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';
import { WebhookReceiver } from '../helpers/webhook-receiver';

// Near the real time: receivers check a signature's timestamp against their own clock.
const NOW = new Date();
const at = (ms: number) => new Date(NOW.getTime() + ms);

/**
 * Medium tier: the real WebhookDispatcher, driven by tick() (WEBHOOK_DISPATCH is off in tests), on
 * this file's database, delivering to a real local receiver.
 */
describe('WebhookDispatcher (medium)', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  const ctx = useTestApp({ env: { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000' } });
  afterAll(() => receiver.close());
  afterEach(() => vi.restoreAllMocks());

  const tick = () => ctx.t.app.get(WebhookDispatcher).tick();
  const deliveries = async (endpointId: string) =>
    (await ctx.db.query('SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id', [endpointId])).rows;
  const attempts = async (deliveryId: string) =>
    (await ctx.db.query('SELECT status_code, failure FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempted_at', [deliveryId])).rows;

  /** An endpoint of `ownerId` on its own path of the receiver, and the requests that reached it. */
  async function endpoint(ownerId: string, events: string[] = ['*'], enabled = true) {
    const path = `/hooks/${randomBytes(4).toString('hex')}`;
    const row = await insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId, url: `${receiver.baseUrl}${path}`, events, enabled });
    return { ...row, received: () => receiver.requests.filter((request) => request.path === path) };
  }

  it('a retry requeues and claims its delivery in one transaction: a dispatcher round between the two cannot take it (no 409)', async () => {
    setClock(ctx.t.app, NOW);
    const user = await insertUser(ctx.db);
    const hook = await endpoint(user.id);
    await putOnPlan(ctx.t.app, ctx.db, user.id, 'TRIAL');
    await tick();
    const [delivery] = await deliveries(hook.id);
    await ctx.db.query("UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL WHERE id = $1", [delivery.id]);
    // A whole dispatcher round after the requeue, just before the retry's claim.
    const repository = ctx.t.app.get(WebhookDeliveriesRepository);
    const claimOne = repository.claimOne.bind(repository);
    vi.spyOn(repository, 'claimOne').mockImplementation(async (...args) => {
      await tick();
      return claimOne(...args);
    });

    const answer = await ctx.t.app.get(WebhookDeliveriesService).retry(userPrincipal(user), delivery.id);

    expect(answer).toMatchObject({ id: delivery.id, status: 'SUCCEEDED', attemptCount: 2 });
    expect(hook.received()).toHaveLength(2);
  });

  it('one tick fans an outbox row out to each subscribed endpoint of its user, once, signed, and records the attempt', async () => {
    setClock(ctx.t.app, NOW);
    const user = await insertUser(ctx.db);
    const everything = await endpoint(user.id);
    const named = await endpoint(user.id, ['subscription.changed']);
    const otherType = await endpoint(user.id, ['license.created']);
    const disabled = await endpoint(user.id, ['*'], false);
    const stranger = await endpoint((await insertUser(ctx.db)).id);
    await putOnPlan(ctx.t.app, ctx.db, user.id, 'TRIAL');

    await tick();

    for (const subscribed of [everything, named]) {
      const [request, ...more] = subscribed.received();
      expect(more).toEqual([]);
      const event = new Webhook(subscribed.secret).verify(request!.body, request!.headers as Record<string, string>);
      expect(event).toMatchObject({ object: 'event', type: 'subscription.changed', data: { object: { userId: user.id, planCode: 'TRIAL' } } });
      const [delivery] = await deliveries(subscribed.id);
      expect(delivery).toMatchObject({ status: 'SUCCEEDED', attempt_count: 1, next_attempt_at: null, event_type: 'subscription.changed' });
      expect(await attempts(delivery.id)).toEqual([{ status_code: 200, failure: null }]);
    }
    // Both endpoints got the same event id, the one the receiver deduplicates by.
    expect(everything.received()[0]!.headers['webhook-id']).toBe(named.received()[0]!.headers['webhook-id']);
    for (const left of [otherType, disabled, stranger]) {
      expect(left.received()).toEqual([]);
      expect(await deliveries(left.id)).toEqual([]);
    }
    const outbox = await ctx.db.query("SELECT delivered_at FROM outbox_messages WHERE type = 'subscription.changed' AND payload->>'userId' = $1", [user.id]);
    expect(outbox.rows).toEqual([{ delivered_at: NOW }]);

    await tick();
    expect(everything.received()).toHaveLength(1);
    expect(await deliveries(everything.id)).toHaveLength(1);
  });

  it('a 503 schedules a retry on the first step of the schedule; it is not made before it is due, and then succeeds', async () => {
    setClock(ctx.t.app, NOW);
    const user = await insertUser(ctx.db);
    const target = await endpoint(user.id);
    await putOnPlan(ctx.t.app, ctx.db, user.id, 'TRIAL');
    receiver.answer({ status: 503, body: 'busy' });

    await tick();
    const [failed] = await deliveries(target.id);
    expect(failed).toMatchObject({ status: 'PENDING', attempt_count: 1, last_error: 'HTTP_STATUS: HTTP 503', completed_at: null });
    const delayMs = failed.next_attempt_at.getTime() - NOW.getTime();
    expect(delayMs).toBeGreaterThanOrEqual(RETRY_DELAYS_SECONDS[0] * 900);
    expect(delayMs).toBeLessThanOrEqual(RETRY_DELAYS_SECONDS[0] * 1100);
    expect(await attempts(failed.id)).toEqual([{ status_code: 503, failure: 'HTTP_STATUS: HTTP 503' }]);

    setClock(ctx.t.app, at(delayMs - 500));
    await tick();
    expect(target.received()).toHaveLength(1);

    setClock(ctx.t.app, at(delayMs + 500));
    await tick();
    expect(target.received()).toHaveLength(2);
    expect(target.received()[1]!.headers['webhook-id']).toBe(target.received()[0]!.headers['webhook-id']);
    expect(await deliveries(target.id)).toMatchObject([{ status: 'SUCCEEDED', attempt_count: 2, next_attempt_at: null, last_error: null }]);
    expect((await attempts(failed.id)).map((attempt) => attempt.status_code)).toEqual([503, 200]);
  });

  it("a receiver's Retry-After beyond the schedule's step is honoured; a 4xx other than 429 is not retried", async () => {
    setClock(ctx.t.app, NOW);
    const slow = await endpoint((await insertUser(ctx.db)).id);
    const refusing = await endpoint((await insertUser(ctx.db)).id);
    await putOnPlan(ctx.t.app, ctx.db, slow.ownerId, 'TRIAL');
    receiver.answer({ status: 429, headers: { 'retry-after': '120' } });
    await tick();
    const [throttled] = await deliveries(slow.id);
    expect(throttled).toMatchObject({ status: 'PENDING', attempt_count: 1 });
    expect(throttled.next_attempt_at.getTime() - NOW.getTime()).toBeGreaterThanOrEqual(120_000);

    await putOnPlan(ctx.t.app, ctx.db, refusing.ownerId, 'TRIAL');
    receiver.answer({ status: 410, body: 'gone' });
    await tick();
    expect(await deliveries(refusing.id)).toMatchObject([{ status: 'FAILED', attempt_count: 1, next_attempt_at: null, last_error: 'HTTP_STATUS: HTTP 410' }]);
  });

  it("a success heals an endpoint its claim saw failing (one health update); a healthy endpoint's success writes no health update at all", async () => {
    setClock(ctx.t.app, NOW);
    const user = await insertUser(ctx.db);
    const healthy = await endpoint(user.id);
    const failing = await endpoint(user.id);
    await ctx.db.query('UPDATE webhook_endpoints SET failing_since = $2 WHERE id = $1', [failing.id, at(-3_600_000)]);
    const healthUpdates = vi.spyOn(ctx.t.app.get(WebhookEndpointsRepository), 'recordHealthy');

    await putOnPlan(ctx.t.app, ctx.db, user.id, 'TRIAL');
    await tick();

    expect(healthy.received()).toHaveLength(1);
    expect(failing.received()).toHaveLength(1);
    expect(healthUpdates.mock.calls.flatMap(([ids]) => ids)).toEqual([failing.id]);
    const rows = await ctx.db.query('SELECT id, failing_since FROM webhook_endpoints WHERE id = ANY($1)', [[healthy.id, failing.id]]);
    expect(rows.rows.every((row: { failing_since: Date | null }) => row.failing_since === null)).toBe(true);
  });
});
