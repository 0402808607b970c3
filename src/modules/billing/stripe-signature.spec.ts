import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { verifyStripeSignature } from './stripe-signature';

const SECRET = 'whsec_signature_spec_secret';
const NOW_MS = 1_796_000_000_000;
const NOW = NOW_MS / 1000;
const PAYLOAD = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.created', data: { object: {} } }, null, 2);

/** Stripe's own test header: what stripe-node (and so Stripe) would send. */
const header = (options: { payload?: string; secret?: string; timestamp?: number } = {}) =>
  new Stripe('sk_test_spec').webhooks.generateTestHeaderString({
    payload: options.payload ?? PAYLOAD,
    secret: options.secret ?? SECRET,
    timestamp: options.timestamp ?? NOW,
  });
const verify = (payload: string, signed: string) => verifyStripeSignature(payload, signed, SECRET, NOW_MS, 300);

describe('verifyStripeSignature', () => {
  it("accepts Stripe's own signature over the raw bytes, within the tolerance either way", () => {
    expect(verify(PAYLOAD, header())).toBe(true);
    expect(verify(PAYLOAD, header({ timestamp: NOW - 300 }))).toBe(true);
    expect(verify(PAYLOAD, header({ timestamp: NOW + 300 }))).toBe(true);
  });

  it('accepts any one of several v1 signatures (a secret being rolled), and ignores v0', () => {
    const other = header({ secret: 'whsec_another' }).split(',')[1]!;
    const [t, v1] = header().split(',');
    expect(verify(PAYLOAD, `${t},${other},${v1},v0=${'0'.repeat(64)}`)).toBe(true);
  });

  it.each([
    ['another payload', () => verify(PAYLOAD.replace('evt_1', 'evt_2'), header())],
    ['the same event re-serialised', () => verify(JSON.stringify(JSON.parse(PAYLOAD)), header())],
    ['another secret', () => verify(PAYLOAD, header({ secret: 'whsec_someone_else' }))],
    ['a timestamp 301 s old', () => verify(PAYLOAD, header({ timestamp: NOW - 301 }))],
    ['a timestamp 301 s ahead', () => verify(PAYLOAD, header({ timestamp: NOW + 301 }))],
    ['only a v0 signature', () => verify(PAYLOAD, header().replace(',v1=', ',v0='))],
    ['a second t= in front', () => verify(PAYLOAD, `t=${NOW},${header({ timestamp: NOW - 86_400 })}`)],
    ['no timestamp', () => verify(PAYLOAD, header().split(',')[1]!)],
    ['a truncated signature', () => verify(PAYLOAD, header().slice(0, -2))],
    ['garbage', () => verify(PAYLOAD, 'not a signature')],
  ])('refuses %s', (_name, check) => {
    expect(check()).toBe(false);
  });
});
