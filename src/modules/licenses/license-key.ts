import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const LICENSE_KEY_PATTERN = /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/;

/** `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX` in Crockford base32: 25 characters, 125 bits from the CSPRNG. */
export function generateLicenseKey(): string {
  const bytes = randomBytes(16);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let chars = '';
  for (let i = 0; i < 25; i++) {
    chars += CROCKFORD[Number(bits & 31n)]!;
    bits >>= 5n;
  }
  return chars.match(/.{5}/g)!.join('-');
}

const LOOK_ALIKES = /[OIL]/g;
const lookAlike = (letter: string) => (letter === 'O' ? '0' : '1');

/**
 * Crockford's reading rules: case-insensitive, O as 0, I and L as 1, dashes and spaces optional.
 * One pass per step and no array: it runs on every license validation.
 */
export function normalizeLicenseKey(input: string): string {
  const compact = input.toUpperCase().replace(/[\s-]/g, '').replace(LOOK_ALIKES, lookAlike);
  return compact.length === 25
    ? `${compact.slice(0, 5)}-${compact.slice(5, 10)}-${compact.slice(10, 15)}-${compact.slice(15, 20)}-${compact.slice(20)}`
    : compact;
}

/** A new license for one unit of a product, following the product's policy. The key is returned once. */
export function newLicense(
  product: { id: string; licenseDurationDays: number | null; maxActivations: number },
  owner: { userId: string; orderId?: string | null },
  now: Date,
  overrides: { expiresAt?: Date | null; maxActivations?: number } = {},
) {
  const key = generateLicenseKey();
  const expiresAt =
    overrides.expiresAt !== undefined
      ? overrides.expiresAt
      : product.licenseDurationDays
        ? new Date(now.getTime() + product.licenseDurationDays * 86_400_000)
        : null;
  return {
    key,
    row: {
      keyHash: createHash('sha256').update(key).digest('hex'),
      keyPrefix: key.slice(0, 5),
      productId: product.id,
      userId: owner.userId,
      orderId: owner.orderId ?? null,
      maxActivations: overrides.maxActivations ?? product.maxActivations,
      expiresAt,
    },
  };
}
