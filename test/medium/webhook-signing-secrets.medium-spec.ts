import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { newId } from '../../src/lib/ids';
import { WebhookDispatcher } from '../../src/modules/webhooks/webhook-dispatcher';
import { WebhookEndpointsService } from '../../src/modules/webhooks/webhook-endpoints.service';
import { insertUser } from '../factories/users';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { userPrincipal } from '../helpers/principals';
import { useTestApp } from '../helpers/test-app';
import { WebhookReceiver } from '../helpers/webhook-receiver';

/** Every line the app writes, raw, for "never contains" checks. */
function captureLogs() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

/**
 * Medium tier: the opened signing secrets WebhookEndpointsService keeps (by endpoint and sealed
 * value), through the real dispatcher delivering to a local receiver.
 */
describe('opened webhook signing secrets (medium)', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  const logs = captureLogs();
  const ctx = useTestApp({
    env: { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000', LOG_LEVEL: 'trace' },
    logDestination: logs.destination,
  });
  afterAll(() => receiver.close());
  afterEach(() => vi.restoreAllMocks());

  const tick = () => ctx.t.app.get(WebhookDispatcher).tick();
  const box = () => ctx.t.app.get(SecretBox);

  /** An endpoint of a fresh user on its own path of the receiver, and the requests that reached it. */
  async function endpoint(sealWith: SecretBox = box()) {
    const owner = await insertUser(ctx.db);
    const path = `/hooks/${randomBytes(4).toString('hex')}`;
    const row = await insertWebhookEndpoint(ctx.db, sealWith, { ownerId: owner.id, url: `${receiver.baseUrl}${path}`, events: ['license.validated'] });
    return { ...row, owner, received: () => receiver.requests.filter((request) => request.path === path) };
  }

  /** One event for the endpoint's owner, fanned out and attempted by one tick. */
  async function deliverOne(ownerId: string) {
    const payload = { licenseId: newId('lic'), productId: newId('prd'), userId: ownerId, fingerprint: null, validatedAt: new Date().toISOString() };
    await ctx.db.query('INSERT INTO outbox_messages (id, type, payload) VALUES ($1, $2, $3)', [newId('obx'), 'license.validated', JSON.stringify(payload)]);
    await tick();
  }

  const verifies = (secret: string, request: { body: string; headers: Record<string, unknown> }) => {
    try {
      new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
      return true;
    } catch {
      return false;
    }
  };

  it("opens an endpoint's secret once for all its attempts, and each attempt is signed with it", async () => {
    const hook = await endpoint();
    const open = vi.spyOn(box(), 'open');
    for (let n = 0; n < 3; n++) await deliverOne(hook.owner.id);
    expect(hook.received()).toHaveLength(3);
    for (const request of hook.received()) expect(verifies(hook.secret, request)).toBe(true);
    expect(open.mock.calls.filter(([sealed]) => sealed === hook.secretSealed)).toHaveLength(1);
  });

  it('a rotated secret signs the very next attempt, the previous one beside it, without waiting for anything to expire', async () => {
    const hook = await endpoint();
    await deliverOne(hook.owner.id);
    const rotated = await ctx.t.app.get(WebhookEndpointsService).rotateSecret(userPrincipal({ ...hook.owner }), hook.id);
    await deliverOne(hook.owner.id);
    const [before, after] = hook.received();
    expect(verifies(rotated.secret, before!)).toBe(false);
    expect(verifies(rotated.secret, after!)).toBe(true);
    expect(verifies(hook.secret, after!)).toBe(true);
    expect(String(after!.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('a secret rotated on another instance (a new sealed value in the row) signs the next attempt here at once', async () => {
    const hook = await endpoint();
    await deliverOne(hook.owner.id);
    const fresh = `whsec_${randomBytes(32).toString('base64')}`;
    await ctx.db.query('UPDATE webhook_endpoints SET secret_sealed = $2 WHERE id = $1', [hook.id, box().seal(fresh)]);
    await deliverOne(hook.owner.id);
    const [, after] = hook.received();
    expect(verifies(fresh, after!)).toBe(true);
    expect(verifies(hook.secret, after!)).toBe(false);
  });

  it("a deleted endpoint's opened secret is let go: asked for again, it is opened anew", async () => {
    const hook = await endpoint();
    const service = ctx.t.app.get(WebhookEndpointsService);
    expect(service.signingSecrets(hook)).toEqual([hook.secret]);
    const open = vi.spyOn(box(), 'open');
    await service.remove(userPrincipal({ ...hook.owner }), hook.id);
    expect(service.signingSecrets(hook)).toEqual([hook.secret]);
    expect(open).toHaveBeenCalledWith(hook.secretSealed);
  });

  it('no opened secret reaches the log, on success, on failures, or when a secret does not open', async () => {
    const signing = [await endpoint(), await endpoint()];
    const unopenable = await endpoint(new SecretBox(randomBytes(32)));
    receiver.answer({ status: 500, body: 'receiver broke' });
    for (const hook of [...signing, unopenable]) await deliverOne(hook.owner.id);
    for (const hook of signing) await deliverOne(hook.owner.id);
    const written = logs.lines.join('');
    // The log is live: the attempt that could not be made is there.
    expect(written).toContain(`the attempt could not be made`);
    for (const { secret } of [...signing, unopenable]) {
      expect(written).not.toContain(secret);
      expect(written).not.toContain(secret.slice('whsec_'.length));
    }
  });
});
