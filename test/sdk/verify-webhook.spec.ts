import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../../packages/sdk/src/index';
import { signWebhook } from '../../src/modules/webhooks/webhook-signature';

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;
const event = {
  id: 'evt_01jh8x2v3kf6qz9w0c4m5t7r8y',
  object: 'event',
  type: 'license.activated',
  created: 1_800_000_000,
  data: { object: { licenseId: 'lic_1' } },
};
const body = JSON.stringify(event);
const at = new Date(1_800_000_000_000);
const signed = (secrets: string[], timestamp = 1_800_000_000) => signWebhook({ id: event.id, timestamp, body, secrets });

/** verifyWebhook against the server's own signer (src/modules/webhooks/webhook-signature.ts). */
describe('@gatehouse/sdk verifyWebhook', () => {
  it('during a rotation either secret verifies (each header carries one signature per secret); a third does not', async () => {
    const [current, previous] = [secret(), secret()];
    const headers = signed([current, previous]);
    await expect(verifyWebhook(body, headers, current, { now: at })).resolves.toEqual(event);
    await expect(verifyWebhook(body, headers, previous, { now: at })).resolves.toEqual(event);
    await expect(verifyWebhook(body, headers, secret(), { now: at })).rejects.toBeInstanceOf(WebhookVerificationError);
  });

  it('accepts timestamps up to 5 minutes away, either way, and not one second more', async () => {
    const key = secret();
    for (const offset of [-300, 300]) await expect(verifyWebhook(body, signed([key], 1_800_000_000 + offset), key, { now: at })).resolves.toEqual(event);
    for (const offset of [-301, 301]) await expect(verifyWebhook(body, signed([key], 1_800_000_000 + offset), key, { now: at })).rejects.toThrow(/tolerance/);
  });

  it('needs both schemes: a delivery with only one of them, or a garbled signature, is refused', async () => {
    const key = secret();
    const headers = signed([key]);
    const { 'webhook-signature': _standard, ...licenseOnly } = headers;
    await expect(verifyWebhook(body, licenseOnly, key, { now: at })).rejects.toThrow(/webhook-signature/);
    const { 'webhook-id': _id, ...withoutId } = headers;
    await expect(verifyWebhook(body, withoutId, key, { now: at })).rejects.toThrow(/webhook-id/);
    await expect(
      verifyWebhook(body, { ...headers, 'X-License-Signature': headers['X-License-Signature']!.replace(/v1=../, 'v1=zz') }, key, { now: at }),
    ).rejects.toThrow(/X-License-Signature/);
    await expect(verifyWebhook(body, headers, 'not-a-whsec-secret', { now: at })).rejects.toBeInstanceOf(WebhookVerificationError);
  });
});
