import type { ApiKeyPrincipal } from './principal';

/**
 * Verifies an API key presented as a bearer token. Implemented by the api-keys module; the
 * global guards depend only on this contract.
 */
export abstract class ApiKeyVerifier {
  /** Whether a bearer value is meant as an API key (by its prefix) rather than a JWT. */
  abstract isApiKey(bearer: string): boolean;
  /** The key's principal, or a DomainError (INVALID_API_KEY, API_KEY_EXPIRED, ACCOUNT_SUSPENDED). */
  abstract verify(key: string): Promise<ApiKeyPrincipal>;
  /** What `verify` would decide, with the reason spelled out (for /v1/access/verify, which answers it rather than failing). */
  abstract inspect(key: string): Promise<KeyInspection>;
}

/** A key judged: usable (with its principal), unknown, or a known key that may no longer be used, and why. */
export type KeyInspection =
  | { outcome: 'VALID'; principal: ApiKeyPrincipal }
  | { outcome: 'UNKNOWN' }
  | { outcome: 'REVOKED' | 'EXPIRED' | 'OWNER_SUSPENDED'; apiKeyId: string; userId: string };

/** The bearer value of a request, if any. */
export function bearerOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}
