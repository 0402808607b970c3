import { createHmac } from 'node:crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Names the sender; the link is the scheme a receiver verifies against. */
export const WEBHOOK_USER_AGENT = 'Gatehouse-Webhooks/1.0 (+https://www.standardwebhooks.com/)';

export interface WebhookToSign {
  /** The event id (`evt_…`): stable across retries, so a receiver can drop duplicates. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The exact JSON string sent: both signatures cover these bytes, not a re-serialisation. */
  body: string;
  /** The endpoint's `whsec_…` secrets, the current one first; during a rotation the previous one too. */
  secrets: readonly string[];
}

/**
 * The headers of one delivery attempt, signed with each secret under both schemes:
 *
 * - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256>` keyed with the base64-decoded
 *   part of the secret after `whsec_`, over `<id>.<timestamp>.<body>`; one `v1,…` per secret,
 *   separated by spaces, so any Standard Webhooks library verifies with either secret.
 * - `X-License-Signature: t=<unix>,v1=<hex HMAC-SHA256>` over `<t>.<body>`, as the published
 *   license-event docs describe. Its HMAC key is the whole secret string, `whsec_` prefix
 *   included, used as UTF-8 text (not decoded): that is what a receiver following those docs
 *   does with the secret it was shown. One `v1=` per secret: `t=…,v1=a,v1=b`.
 */
export function signWebhook({ id, timestamp, body, secrets }: WebhookToSign): Record<string, string> {
  if (secrets.length === 0) throw new Error('A webhook needs at least one signing secret');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error('A webhook timestamp is whole Unix seconds');
  const standard = secrets.map((secret) => `v1,${standardSignature(secret, id, timestamp, body)}`);
  const license = secrets.map((secret) => `v1=${licenseSignature(secret, timestamp, body)}`);
  return {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standard.join(' '),
    'X-License-Signature': [`t=${timestamp}`, ...license].join(','),
  };
}

function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  return createHmac('sha256', standardKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

function licenseSignature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Strict base64, as Standard Webhooks libraries decode it; the error never echoes the secret. */
function standardKey(secret: string): Buffer {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : '';
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw new Error(`A webhook secret must be "${WEBHOOK_SECRET_PREFIX}" followed by base64`);
  }
  return key;
}
