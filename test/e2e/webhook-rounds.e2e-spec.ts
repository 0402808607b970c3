import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids';
import { WebhookDispatcher } from '../../src/modules/webhooks/webhook-dispatcher';
import { registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';
import { WebhookReceiver } from '../helpers/webhook-receiver';

/** Issue 21 item 8: a round's attempts recorded together, over kept-alive connections. */
describe('outbound webhooks: rounds of attempts', () => {
  let receiver: WebhookReceiver;
  let gone: WebhookReceiver;
  beforeAll(async () => {
    [receiver, gone] = await Promise.all([WebhookReceiver.start(), WebhookReceiver.start()]);
  });
  const ctx = useTestApp({ env: { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000' } });
  afterAll(() => Promise.all([receiver.close(), gone.close()]));
  const call = callerFor(ctx);

  const tick = () => ctx.t.app.get(WebhookDispatcher).tick();
  const event = (userId: string) =>
    ctx.db.query('INSERT INTO outbox_messages (id, type, payload) VALUES ($1, $2, $3)', [
      newId('obx'),
      'license.validated',
      JSON.stringify({ licenseId: newId('lic'), productId: newId('prd'), userId, fingerprint: null, validatedAt: new Date().toISOString() }),
    ]);

  async function endpointOn(target: WebhookReceiver) {
    const user = await registerAndLogin(ctx.t.app);
    const path = `/rounds/${randomBytes(4).toString('hex')}`;
    const created = await call('POST', '/v1/webhooks/endpoints', user.accessToken, { url: `${target.baseUrl}${path}`, events: ['*'] });
    expect(created.statusCode, created.body).toBe(201);
    return { user, id: created.json<{ id: string }>().id };
  }

  const deliveriesOf = async (endpointId: string) =>
    (
      await ctx.db.query(
        `SELECT d.status, d.lease_until, d.attempt_count, d.last_error, d.completed_at, d.next_attempt_at,
                array_agg(a.status_code) AS codes, count(a.id)::int AS attempts
           FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
          WHERE d.endpoint_id = $1 GROUP BY d.id`,
        [endpointId],
      )
    ).rows as {
      status: string;
      lease_until: Date | null;
      attempt_count: number;
      last_error: string | null;
      completed_at: Date | null;
      next_attempt_at: Date | null;
      codes: (number | null)[];
      attempts: number;
    }[];

  it('a mixed round: each attempt is recorded with its own outcome, and a 410 switches its endpoint off', async () => {
    const mixed = await endpointOn(receiver);
    const gonePoint = await endpointOn(gone);
    for (let n = 0; n < 4; n++) await event(mixed.user.user.id);
    await event(gonePoint.user.user.id);
    receiver.answer({ status: 200 }, { status: 503 }, { status: 400 }, { status: 204 });
    gone.answer({ status: 410 });
    const startedAt = Date.now();
    await tick();

    const rows = await deliveriesOf(mixed.id);
    expect(rows.map((row) => row.codes[0]).sort()).toEqual([200, 204, 400, 503]);
    for (const row of rows) {
      expect(row).toMatchObject({ attempts: 1, attempt_count: 1, lease_until: null });
      const code = row.codes[0]!;
      if (code < 300) expect(row).toMatchObject({ status: 'SUCCEEDED', last_error: null, next_attempt_at: null, completed_at: expect.any(Date) });
      if (code === 400) expect(row).toMatchObject({ status: 'FAILED', last_error: 'HTTP_STATUS: HTTP 400', completed_at: expect.any(Date) });
      if (code === 503) {
        expect(row).toMatchObject({ status: 'PENDING', last_error: 'HTTP_STATUS: HTTP 503', completed_at: null });
        // The schedule's first retry: 5 s, ±10%.
        expect(row.next_attempt_at!.getTime() - startedAt).toBeGreaterThan(4_000);
      }
    }
    expect(await deliveriesOf(gonePoint.id)).toMatchObject([{ status: 'FAILED', attempts: 1, codes: [410], lease_until: null }]);
    const endpoint = await ctx.db.query('SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1', [gonePoint.id]);
    expect(endpoint.rows).toEqual([{ enabled: false, disabled_reason: 'GONE' }]);
  });

  it('a busy endpoint is reached over kept-alive connections: no more than its attempts in flight (4), for 12 deliveries', async () => {
    const busy = await endpointOn(receiver);
    const before = receiver.connections;
    for (let n = 0; n < 12; n++) await event(busy.user.user.id);
    await tick();
    expect((await deliveriesOf(busy.id)).map((row) => row.status)).toEqual(Array.from({ length: 12 }, () => 'SUCCEEDED'));
    expect(receiver.connections - before).toBeLessThanOrEqual(4);
  });
});
