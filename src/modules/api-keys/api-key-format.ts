import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/**
 * 26 base62 characters: log2(62^26) ≈ 154 bits from the CSPRNG. The display prefix shows four of
 * them, leaving about 131 unknown bits beside the stored hash (ASVS asks for at least 112).
 */
const SECRET_LENGTH = 26;
/** CRC-32 in base62 (62^6 > 2^32). */
const CHECKSUM_LENGTH = 6;

export type ApiKeyEnvironment = 'live' | 'test';

/** `<prefix>_<live|test>_<26 random base62><6 checksum>`: a typo is caught before any lookup. */
export function generateApiKey(prefix: string, environment: ApiKeyEnvironment): string {
  const body = `${prefix}_${environment}_${randomBase62(SECRET_LENGTH)}`;
  return `${body}${checksum(body)}`;
}

export function hasValidChecksum(key: string, prefix: string): boolean {
  const pattern = new RegExp(`^${prefix}_(live|test)_[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}$`);
  if (!pattern.test(key)) return false;
  const body = key.slice(0, -CHECKSUM_LENGTH);
  return checksum(body) === key.slice(-CHECKSUM_LENGTH);
}

/** What may be shown of a key after creation: `gate_live_AbCd` and the last four characters. */
export function displayParts(key: string): { prefix: string; last4: string } {
  const secretStart = key.indexOf('_', key.indexOf('_') + 1) + 1;
  return { prefix: key.slice(0, secretStart + 4), last4: key.slice(-4) };
}

function checksum(body: string): string {
  let value = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Uniform base62 by rejection sampling (bytes >= 248 would bias the modulo). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62]!;
    }
  }
  return out;
}
