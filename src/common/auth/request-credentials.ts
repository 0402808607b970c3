import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/config';
import { AccessTokenCheck, checkAccessToken } from './access-token';
import type { ApiKeyVerifier } from './api-key-verifier';
import type { ApiKeyPrincipal } from './principal';

/** Per request, the answer for each credential it presented (a failure included). */
const answers = new WeakMap<FastifyRequest, Map<string, unknown>>();

/**
 * The rate limiter (to count per user), the authentication guard (to admit or refuse) and the API
 * key usage hook (to count a request the guards never reached) each need the caller. Asking
 * through here, they share one answer: a key or token is verified once per request, with one
 * cache or database lookup and one signature check.
 */
function once<T>(request: FastifyRequest, credential: string, verify: () => T): T {
  let verified = answers.get(request);
  if (!verified) answers.set(request, (verified = new Map<string, unknown>()));
  if (!verified.has(credential)) verified.set(credential, verify());
  return verified.get(credential) as T;
}

/** The API key's principal, or its DomainError (INVALID_API_KEY, API_KEY_EXPIRED, ACCOUNT_SUSPENDED). */
export function verifiedApiKey(request: FastifyRequest, verifier: ApiKeyVerifier, key: string): Promise<ApiKeyPrincipal> {
  return once(request, `apiKey:${key}`, () => verifier.verify(key));
}

/** The access token's principal from its claims (its session is the authentication guard's to check), or why not. */
export function verifiedAccessToken(request: FastifyRequest, token: string, auth: AppConfig['auth']): AccessTokenCheck {
  return once(request, `accessToken:${token}`, () => checkAccessToken(token, auth));
}
