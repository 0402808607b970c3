import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { HelmetOptions } from 'helmet';
import type { AppConfig } from '../../config/config';

type Headers = Record<string, string>;

/** The headers helmet sets with these options: none of them depends on the request. */
function headersOf(options: HelmetOptions): Headers {
  const headers: Headers = {};
  const response = {
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error as Error;
  });
  return headers;
}

/**
 * Helmet's headers, computed once at boot and set by one hook, where @fastify/helmet ran two
 * hooks and rebuilt helmet (parsing the CSP directives) on every request. API answers are JSON
 * and load nothing, so their policy allows nothing and no framing; Swagger UI under /docs keeps
 * the policy it needs (it styles itself inline and loads its bundle from /docs).
 */
export function setSecurityHeaders(fastify: FastifyInstance, config: AppConfig): void {
  const api = headersOf({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } });
  const docs = headersOf({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        scriptSrc: ["'self'"],
        // Over plain http (local development) this would send the docs' assets to https and break them.
        upgradeInsecureRequests: config.publicBaseUrl.startsWith('https:') ? [] : null,
      },
    },
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(request.routeOptions.url?.startsWith('/docs') ? docs : api);
    done();
  });
}
