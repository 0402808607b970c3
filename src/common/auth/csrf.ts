import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/config';

/** Origins allowed to act with the login cookie: the API's own and those in CORS_ORIGINS. */
export const allowedOrigins = (config: AppConfig): string[] => [new URL(config.publicBaseUrl).origin, ...config.corsOrigins];

/**
 * Whether a request may act with the login cookie: judged by `Origin`, or by `Sec-Fetch-Site`
 * when there is no Origin. A request with neither did not come from a browser page, which is
 * the only place a forged cross-site request can come from.
 */
export function isSameSiteRequest(request: FastifyRequest, allowedOrigins: string[]): boolean {
  const origin = request.headers.origin;
  if (origin) return allowedOrigins.includes(origin);
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite) return fetchSite === 'same-origin' || fetchSite === 'none';
  return true;
}
