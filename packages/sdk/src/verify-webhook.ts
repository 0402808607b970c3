import type { WebhookEvent } from './types.js';

/** A delivery that must not be trusted: missing or wrong signature, or a timestamp out of tolerance. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far the signed timestamp may be from now; 300 s (5 minutes) unless told. */
  toleranceSeconds?: number;
  /** The time to judge the timestamp at; now unless told. */
  now?: Date;
}

const SECRET_PREFIX = 'whsec_';
const encoder = new TextEncoder();
/** WebCrypto's key type, named without the DOM library so that Node-only type settings compile this too. */
type HmacKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

/**
 * Checks a delivery of the app's outbound webhooks under both of its schemes, over the raw body as
 * received (before any JSON parsing), and returns the event:
 *
 * - Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>`
 *   HMAC-SHA256 over `<id>.<timestamp>.<body>`, keyed with the base64 after `whsec_`);
 * - `X-License-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 over `<t>.<body>` keyed with the whole
 *   `whsec_…` string.
 *
 * During a secret rotation each header carries one signature per secret; one match suffices.
 * Uses WebCrypto, so it runs in Node 20+, browsers, Deno and edge runtimes.
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
  const get = headerReader(headers);
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);

  const id = get('webhook-id');
  const timestamp = get('webhook-timestamp');
  if (!id || !timestamp) throw new WebhookVerificationError('Missing webhook-id or webhook-timestamp');
  checkTimestamp(Number(timestamp), now, tolerance, 'webhook-timestamp');
  const standard = (get('webhook-signature') ?? '').split(' ').flatMap((part) => (part.startsWith('v1,') ? [part.slice(3)] : []));
  const standardKey = await hmacKey(decodeBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : ''));
  if (!(await anyMatches(standardKey, `${id}.${timestamp}.${body}`, standard, decodeBase64))) {
    throw new WebhookVerificationError('webhook-signature: no valid signature');
  }

  const fields = (get('x-license-signature') ?? '').split(',').map((field) => field.split('='));
  const t = fields.find(([name]) => name === 't')?.[1];
  checkTimestamp(Number(t), now, tolerance, 'X-License-Signature');
  const license = fields.flatMap(([name, value]) => (name === 'v1' && value ? [value] : []));
  if (!(await anyMatches(await hmacKey(encoder.encode(secret)), `${t}.${body}`, license, decodeHex))) {
    throw new WebhookVerificationError('X-License-Signature: no valid signature');
  }

  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError('The body is not JSON');
  }
  return event as WebhookEvent;
}

function checkTimestamp(seconds: number, now: number, tolerance: number, header: string): void {
  if (!Number.isInteger(seconds)) throw new WebhookVerificationError(`${header}: no timestamp`);
  if (Math.abs(now - seconds) > tolerance) throw new WebhookVerificationError(`${header}: timestamp outside the ${tolerance} s tolerance`);
}

function headerReader(headers: WebhookHeaders): (name: string) => string | undefined {
  if (headers instanceof Headers) return (name) => headers.get(name) ?? undefined;
  const lower = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(headers)) lower.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
  return (name) => lower.get(name);
}

function hmacKey(raw: Uint8Array<ArrayBuffer>): Promise<HmacKey> {
  if (raw.length === 0) throw new WebhookVerificationError(`The secret must be "${SECRET_PREFIX}" followed by base64`);
  return globalThis.crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
}

/** WebCrypto's verify compares in constant time. */
async function anyMatches(key: HmacKey, message: string, signatures: string[], decode: (text: string) => Uint8Array<ArrayBuffer>): Promise<boolean> {
  const data = encoder.encode(message);
  for (const signature of signatures) {
    const bytes = decode(signature);
    if (bytes.length === 32 && (await globalThis.crypto.subtle.verify('HMAC', key, bytes, data))) return true;
  }
  return false;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

function decodeHex(text: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-f]{2})+$/i.test(text)) return new Uint8Array();
  return Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
}
