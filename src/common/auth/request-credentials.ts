import type { FastifyRequest } from 'fastify';
import type { ApiKeyPrincipal } from './principal';

/** Per request, the API key it presented and the answer for it (a rejection included). */
const answers = new WeakMap<FastifyRequest, { key: string; answer: Promise<ApiKeyPrincipal> }>();

/**
 * The route guard (to count per user, then to admit or refuse) and the API key usage hook (to
 * count a request the guard never admitted) each need the key's owner. Asking through here, they
 * share one answer: a key is verified once per request, with one cache or database lookup.
 */
export function verifiedApiKey(
  request: FastifyRequest,
  verifier: { verify(key: string, request: FastifyRequest): Promise<ApiKeyPrincipal> },
  key: string,
): Promise<ApiKeyPrincipal> {
  const known = answers.get(request);
  if (known?.key === key) return known.answer;
  const answer = verifier.verify(key, request);
  // Whoever asks first may not be the one who handles a refusal; the others still see it.
  answer.catch(() => undefined);
  answers.set(request, { key, answer });
  return answer;
}
