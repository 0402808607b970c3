import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Whether `header` (Stripe-Signature: `t=<unix>,v1=<hex>[,v1=…][,v0=…]`) signs `payload` under
 * `secret`, as Stripe documents it: HMAC-SHA256 keyed with the whole `whsec_…` string, over
 * `<t>.<payload>` (the raw bytes as received), in hex, compared in constant time with each `v1`.
 * The header must carry exactly one `t=` (a second one could smuggle an old signed header past a
 * check of the first), and it must be within `toleranceSeconds` of now in either direction (a
 * timestamp from the future is refused too). `v0` and other schemes are never accepted.
 */
export function verifyStripeSignature(payload: string, header: string, secret: string, nowMs: number, toleranceSeconds: number): boolean {
  let timestamp: string | undefined;
  let timestamps = 0;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const item = part.trim();
    if (item.startsWith('t=')) {
      timestamps++;
      timestamp = item.slice(2);
    } else if (item.startsWith('v1=') && SHA256_HEX.test(item.slice(3))) signatures.push(Buffer.from(item.slice(3), 'hex'));
  }
  if (timestamps !== 1 || !timestamp || !/^\d+$/.test(timestamp) || signatures.length === 0) return false;
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest();
  // Every candidate is compared, so the time taken does not say which one matched.
  let match = false;
  for (const signature of signatures) match = timingSafeEqual(signature, expected) || match;
  return match;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
