import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookClient } from '../../src/common/http/webhook-client';
import { signWebhook } from '../../src/modules/webhooks/webhook-signature';
import { verifyDelivery, verifyLicenseSignature } from '../fixtures/readme-verify-webhook';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const ROOT = join(__dirname, '../..');
const HEADING = '### Outbound webhooks: verifying a delivery';
const FIXTURE = 'test/fixtures/readme-verify-webhook.ts';

/** The first ```ts block after the heading. */
function readmeSnippet(): string | undefined {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(HEADING));
  return readme.includes(HEADING) ? /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1] : undefined;
}

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
const now = () => Math.floor(Date.now() / 1000);

/** Medium tier: the README's receiver code verifies what Gatehouse signs, after a real HTTP delivery. */
describe("the README's webhook verification example", () => {
  let receiver: WebhookReceiver;
  const client = new WebhookClient({ allowPrivateNetworks: true, timeoutMs: 5000, maxBodyBytes: 4096 });
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterAll(() => receiver.close());

  /** Signs and delivers one event; answers what the receiver got, headers as Node gives them (lower case). */
  async function deliver(secrets: string[], timestamp = now()) {
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const body = JSON.stringify({ id, object: 'event', type: 'ping', created: timestamp, data: { object: {} } });
    expect(await client.send(receiver.url, signWebhook({ id, timestamp, body, secrets }), body)).toMatchObject({ ok: true });
    const [received] = receiver.byWebhookId().get(id)!;
    return { body: received!.body, headers: received!.headers as Record<string, string> };
  }

  it(`is the fixture ${FIXTURE}, character for character`, () => {
    expect(readmeSnippet()).toBe(readFileSync(join(ROOT, FIXTURE), 'utf8'));
  });

  it('verifies a delivery under both schemes and returns the event', async () => {
    const secret = newSecret();
    const { body, headers } = await deliver([secret]);
    expect(verifyDelivery(body, headers, secret)).toEqual(JSON.parse(body));
  });

  it('verifies a delivery during a rotation with either secret alone', async () => {
    const [current, previous] = [newSecret(), newSecret()];
    const { body, headers } = await deliver([current, previous]);
    expect(verifyDelivery(body, headers, current)).toEqual(JSON.parse(body));
    expect(verifyDelivery(body, headers, previous)).toEqual(JSON.parse(body));
    expect(() => verifyDelivery(body, headers, newSecret())).toThrow('X-License-Signature: no valid signature');
  });

  it('refuses a changed body, a stale timestamp, and a malformed or missing header', async () => {
    const secret = newSecret();
    const { body, headers } = await deliver([secret]);
    expect(() => verifyDelivery(body.replace('ping', 'pong'), headers, secret)).toThrow('X-License-Signature: no valid signature');

    const stale = await deliver([secret], now() - 301);
    expect(() => verifyDelivery(stale.body, stale.headers, secret)).toThrow('X-License-Signature: stale timestamp');
    expect(() => verifyLicenseSignature(stale.headers['x-license-signature']!, stale.body, secret, 600)).not.toThrow();

    const t = headers['x-license-signature']!.split(',')[0];
    expect(() => verifyLicenseSignature(`${t},v1=${'z'.repeat(64)}`, body, secret, 300)).toThrow('no valid signature');
    expect(() => verifyLicenseSignature(`${t}`, body, secret, 300)).toThrow('no valid signature');
    expect(() => verifyLicenseSignature('', body, secret, 300)).toThrow('stale timestamp');
  });

  it('also checks the Standard Webhooks signature, not only X-License-Signature', async () => {
    const secret = newSecret();
    const { body, headers } = await deliver([secret]);
    const other = await deliver([newSecret()]);
    expect(() => verifyDelivery(body, { ...headers, 'webhook-signature': other.headers['webhook-signature']! }, secret)).toThrow('No matching signature found');
  });
});
