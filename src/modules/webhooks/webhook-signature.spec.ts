import { createHmac, randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook, WEBHOOK_USER_AGENT } from './webhook-signature';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
const now = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'ping', created: 1_700_000_000, data: { object: { note: 'é ✓' } } });

/** Parses `t=…,v1=…[,v1=…]` the way a receiver following the published docs would. */
function licenseHeader(header: string): { t: string; v1: string[] } {
  const parts = header.split(',').map((part) => part.split('=') as [string, string]);
  return { t: parts.find(([key]) => key === 't')![1], v1: parts.filter(([key]) => key === 'v1').map(([, value]) => value) };
}

describe('signWebhook', () => {
  it('sends the Standard Webhooks headers, content-type and a user agent naming Gatehouse', () => {
    const headers = signWebhook({ id: 'evt_1', timestamp: 1_700_000_000, body, secrets: [newSecret()] });
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': 'evt_1',
      'webhook-timestamp': '1700000000',
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
      'X-License-Signature': expect.stringMatching(/^t=1700000000,v1=[0-9a-f]{64}$/),
    });
    expect(headers['user-agent']).toBe(WEBHOOK_USER_AGENT);
    expect(WEBHOOK_USER_AGENT).toMatch(/^Gatehouse-Webhooks\/1\.0 \(\+https:\/\/.+\)$/);
  });

  it("matches the Standard Webhooks spec's published test vector", () => {
    const headers = signWebhook({
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies with the npm standardwebhooks package, and fails it on a changed body or another secret', () => {
    const secret = newSecret();
    const headers = signWebhook({ id: 'evt_2', timestamp: now(), body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('ping', 'pong'), headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('signs with both secrets during a rotation, and each verifies alone under both schemes', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const timestamp = now();
    const headers = signWebhook({ id: 'evt_3', timestamp, body, secrets: [current, previous] });

    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    // Each secret's signature alone is enough: the receiver holding only one of them still verifies.
    const [first, second] = headers['webhook-signature']!.split(' ');
    expect(new Webhook(current).verify(body, { ...headers, 'webhook-signature': first! })).toBeTruthy();
    expect(new Webhook(previous).verify(body, { ...headers, 'webhook-signature': second! })).toBeTruthy();
    expect(() => new Webhook(previous).verify(body, { ...headers, 'webhook-signature': first! })).toThrow(WebhookVerificationError);

    const license = licenseHeader(headers['X-License-Signature']!);
    expect(license.t).toBe(String(timestamp));
    expect(license.v1).toEqual([
      createHmac('sha256', current).update(`${timestamp}.${body}`).digest('hex'),
      createHmac('sha256', previous).update(`${timestamp}.${body}`).digest('hex'),
    ]);
  });

  it('keys X-License-Signature with the whole whsec_ string over "<t>.<body>", recomputed independently', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const headers = signWebhook({ id: 'evt_4', timestamp: 1_700_000_123, body: '{"a":1}', secrets: [secret] });
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update('1700000123.{"a":1}', 'utf8').digest('hex');
    expect(headers['X-License-Signature']).toBe(`t=1700000123,v1=${expected}`);
  });

  it('signs the exact bytes given: a re-serialised body does not verify', () => {
    const secret = newSecret();
    const spaced = '{ "id": "evt_5" }';
    const headers = signWebhook({ id: 'evt_5', timestamp: now(), body: spaced, secrets: [secret] });
    expect(new Webhook(secret).verify(spaced, headers)).toEqual({ id: 'evt_5' });
    expect(() => new Webhook(secret).verify(JSON.stringify(JSON.parse(spaced)), headers)).toThrow(WebhookVerificationError);
  });

  it('refuses no secret, a malformed secret (without echoing it) and a fractional timestamp', () => {
    expect(() => signWebhook({ id: 'evt_6', timestamp: now(), body, secrets: [] })).toThrow(/at least one/);
    for (const bad of ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_', 'whsec_not base64!!']) {
      // The exact message: nothing of the secret is in it.
      expect(() => signWebhook({ id: 'evt_6', timestamp: now(), body, secrets: [bad] })).toThrow(
        new Error('A webhook secret must be "whsec_" followed by base64'),
      );
    }
    expect(() => signWebhook({ id: 'evt_6', timestamp: 1.5, body, secrets: [newSecret()] })).toThrow(/whole Unix seconds/);
  });
});
