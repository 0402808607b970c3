import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque tokens of the form `<id>.<secret>`: the id finds the row, the secret (32 random bytes)
 * is stored only as its SHA-256 and compared in constant time.
 */
export interface SecretToken {
  token: string;
  hash: string;
}

export function issueSecretToken(id: string): SecretToken {
  const secret = randomBytes(32).toString('base64url');
  return { token: `${id}.${secret}`, hash: sha256(secret) };
}

/** A token with a secret chosen by the caller (derived, not random); the same shape as issueSecretToken's. */
export function secretTokenWith(id: string, secret: string): SecretToken {
  return { token: `${id}.${secret}`, hash: sha256(secret) };
}

export function parseSecretToken(token: string): { id: string; secret: string } | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot === token.length - 1 || token.length > 200) return undefined;
  return { id: token.slice(0, dot), secret: token.slice(dot + 1) };
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  return hashesEqual(sha256(secret), expectedHash);
}

/** Constant-time comparison of two hex digests. */
export function hashesEqual(actualHash: string, expectedHash: string): boolean {
  const actual = Buffer.from(actualHash, 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Constant-time comparison of two strings whose length is no secret (digests, MACs). */
export function stringsEqual(actual: string, expected: string): boolean {
  const a = Buffer.from(actual, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
