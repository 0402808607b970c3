import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/config';

/** Origins allowed to act with the login cookie: the API's own and those in CORS_ORIGINS. */
export const allowedOrigins = (config: AppConfig): string[] => [new URL(config.publicBaseUrl).origin, ...config.corsOrigins];

/**
 * Whether a request may act with the login cookie: judged by `Origin`, or by `Sec-Fetch-Site`
 * when there is no Origin. A request with neither did not come from a browser page, which is
 * the only place a forged cross-site request can come from.
 *
 * A same-origin request is never cross-site, whatever PUBLIC_BASE_URL says: Swagger UI opened at
 * http://127.0.0.1:3000/docs while PUBLIC_BASE_URL is http://localhost:3000 must be able to write.
 * Browsers set both headers themselves (a page cannot forge them), and the Host of a forged
 * request is this server's, so an Origin equal to the request's own origin is this server's page.
 */
export function isSameSiteRequest(request: FastifyRequest, allowedOrigins: string[]): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite === 'same-origin') return true;
  const origin = request.headers.origin;
  if (origin) return allowedOrigins.includes(origin) || origin === `${request.protocol}://${request.host}`;
  if (fetchSite) return fetchSite === 'none';
  return true;
}
