import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BackgroundTasks } from '../../src/common/background';
import { newId } from '../../src/lib/ids';
import { WebhookDispatcher } from '../../src/modules/webhooks/webhook-dispatcher';
import { login, registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { setClock } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';
import { WebhookReceiver } from '../helpers/webhook-receiver';

interface DeliveryView {
  id: string;
  status: string;
  payload: { data: { object: { userId?: string } } };
}

/** Issue 19 (low 8): a demoted ADMIN keeps no other tenant's events. */
describe("an `all` endpoint's owner demoted from ADMIN", () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  const ctx = useTestApp({ env: { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000' } });
  afterAll(() => receiver.close());
  afterEach(() => vi.restoreAllMocks());

  const call = callerFor(ctx);
  const tick = () => ctx.t.app.get(WebhookDispatcher).tick();
  const event = (userId: string) =>
    ctx.db.query('INSERT INTO outbox_messages (id, type, payload) VALUES ($1, $2, $3)', [
      newId('obx'),
      'license.validated',
      JSON.stringify({ licenseId: newId('lic'), productId: newId('prd'), userId, fingerprint: null, validatedAt: new Date().toISOString() }),
    ]);
  const rowsOf = async (endpointId: string) =>
    (await ctx.db.query('SELECT id, subject_user_id, status, last_error FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id', [endpointId])).rows as {
      id: string;
      subject_user_id: string;
      status: string;
      last_error: string | null;
    }[];

  /** An ADMIN with an `all` endpoint on its own path, deliveries pending to it about a customer and about itself, and one FAILED about the customer. */
  async function adminWithDeliveries() {
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    const path = `/all/${randomBytes(4).toString('hex')}`;
    const created = await call('POST', '/v1/webhooks/endpoints', admin.accessToken, { url: `${receiver.baseUrl}${path}`, events: ['*'], scope: 'all' });
    expect(created.statusCode, created.body).toBe(201);
    const endpointId = created.json<{ id: string }>().id;
    const customer = await registerAndLogin(ctx.t.app);
    for (const userId of [customer.user.id, customer.user.id, customer.user.id, admin.user.id]) await event(userId);
    receiver.answer(...Array.from({ length: 4 }, () => ({ status: 503 })));
    await tick();
    const rows = await rowsOf(endpointId);
    expect(rows.map((row) => row.subject_user_id).sort()).toEqual([admin.user.id, customer.user.id, customer.user.id, customer.user.id].sort());
    expect(rows.every((row) => row.status === 'PENDING')).toBe(true);
    const aboutCustomer = rows.filter((row) => row.subject_user_id === customer.user.id);
    // Retries exhausted for one of them: stored, and recoverable while its owner is an ADMIN.
    await ctx.db.query("UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL, completed_at = now() WHERE id = $1", [aboutCustomer[0]!.id]);
    const received = () => receiver.requests.filter((request) => request.path === path);
    return {
      admin,
      customer,
      endpointId,
      aboutCustomer: aboutCustomer.map((row) => row.id),
      aboutAdmin: rows.find((row) => row.subject_user_id === admin.user.id)!.id,
      received,
    };
  }

  async function demote(userId: string) {
    const other = await registerAdmin(ctx.t.app, ctx.db);
    const demoted = await call('PATCH', `/v1/users/${userId}/role`, other.accessToken, { role: 'USER' });
    expect(demoted.statusCode, demoted.body).toBe(200);
    await ctx.t.app.get(BackgroundTasks).drain();
  }

  it('issue 19 (low 8): its pending deliveries about other users are cancelled at once and never sent; its own go on', async () => {
    const { admin, endpointId, aboutCustomer, aboutAdmin, received } = await adminWithDeliveries();
    const sentBefore = received().length;
    await demote(admin.user.id);
    const rows = await rowsOf(endpointId);
    for (const id of aboutCustomer.slice(1)) {
      expect(rows.find((row) => row.id === id)).toMatchObject({ status: 'FAILED', last_error: "CANCELLED: the endpoint's owner is no longer an ADMIN" });
    }
    expect(rows.find((row) => row.id === aboutAdmin)).toMatchObject({ status: 'PENDING' });

    setClock(ctx.t.app, new Date(Date.now() + 60_000));
    await tick();
    const sent = received().slice(sentBefore);
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!.body).data.object.userId).toBe(admin.user.id);
  });

  it('issue 19 (low 8): the stored deliveries about other users are no longer readable, retryable or recoverable by it', async () => {
    const { admin, customer, endpointId, aboutCustomer, aboutAdmin, received } = await adminWithDeliveries();
    const before = await call('GET', `/v1/webhooks/deliveries?endpointId=${endpointId}`, admin.accessToken);
    expect(before.json<{ items: DeliveryView[] }>().items).toHaveLength(4);
    await demote(admin.user.id);
    // Its sessions ended with the role change: it signs in again, as a USER.
    const token = (await login(ctx.t.app, admin.input.email, admin.input.password)).accessToken;

    const listed = await call('GET', `/v1/webhooks/deliveries?endpointId=${endpointId}`, token);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json<{ items: DeliveryView[] }>().items.map((item) => item.id)).toEqual([aboutAdmin]);
    expect(listed.body).not.toContain(customer.user.id);
    for (const id of aboutCustomer) {
      expect((await call('GET', `/v1/webhooks/deliveries/${id}`, token)).statusCode).toBe(404);
      const retried = await call('POST', `/v1/webhooks/deliveries/${id}/retry`, token);
      expect(retried.json()).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    }
    const sentBefore = received().length;
    const recovered = await call('POST', `/v1/webhooks/endpoints/${endpointId}/recover`, token, { since: new Date(Date.now() - 3_600_000).toISOString() });
    expect(recovered.statusCode, recovered.body).toBe(202);
    expect(recovered.json()).toEqual({ requeued: 0 });
    const rows = await rowsOf(endpointId);
    expect(rows.filter((row) => aboutCustomer.includes(row.id)).map((row) => row.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(received().length).toBe(sentBefore);
    // Another ADMIN still sees them all.
    const other = await registerAdmin(ctx.t.app, ctx.db);
    expect((await call('GET', `/v1/webhooks/deliveries/${aboutCustomer[0]}`, other.accessToken)).statusCode).toBe(200);
  });

  it('a delivery about another user that reaches it after the demotion (fanned out in the same moment) is cancelled when claimed, not sent', async () => {
    const { admin, customer, endpointId, received } = await adminWithDeliveries();
    await demote(admin.user.id);
    const sentBefore = received().length;
    // As if a fan-out that read the role before the demotion committed after the cancel ran.
    const late = newId('whd');
    await ctx.db.query(
      `INSERT INTO webhook_deliveries (id, endpoint_id, owner_id, subject_user_id, event_id, event_type, body, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, 'license.validated', '{}', now() - interval '1 second')`,
      [late, endpointId, admin.user.id, customer.user.id, newId('evt')],
    );
    await tick();
    expect((await rowsOf(endpointId)).find((row) => row.id === late)).toMatchObject({
      status: 'FAILED',
      last_error: "CANCELLED: the endpoint's owner is no longer an ADMIN",
    });
    expect(received().length).toBe(sentBefore);
    // And a new event about the customer is not fanned out to it at all.
    await event(customer.user.id);
    await tick();
    expect((await rowsOf(endpointId)).filter((row) => row.subject_user_id === customer.user.id)).toHaveLength(4);
  });
});
