import { randomBytes } from 'node:crypto';

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

/** Crockford's reading rules: case-insensitive, O as 0, I and L as 1, dashes and spaces optional. */
export function normalizeLicenseKey(input: string): string {
  const compact = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return compact.length === 25 ? compact.match(/.{5}/g)!.join('-') : compact;
}
