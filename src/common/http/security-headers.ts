import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { RouteConfig } from '@nestjs/platform-fastify';
import helmet, { HelmetOptions } from 'helmet';
import type { AppConfig } from '../../config/config';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by @HtmlPage(): the route answers an HTML page, with document headers. */
    gatehouseHtmlPage?: boolean;
  }
}

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
 * Marks an HTML page for people (not an API operation): it gets helmet's document headers, where
 * JSON answers get the API's set. The page sets its own content-security-policy.
 */
export const HtmlPage = () => RouteConfig({ gatehouseHtmlPage: true });

/**
 * The headers OWASP's REST Security Cheat Sheet asks of an API answer: a policy that allows nothing
 * and no framing, HSTS, nosniff, no referrer, and same-origin reads. Helmet's document-only headers
 * (COOP, Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options,
 * X-Permitted-Cross-Domain-Policies, X-XSS-Protection) govern how a browser treats an HTML page and
 * its subresources, which a JSON answer does not have; they go on pages and the docs only.
 */
const API_HEADERS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/**
 * Helmet's headers, computed once at boot and set by one hook, where @fastify/helmet ran two
 * hooks and rebuilt helmet (parsing the CSP directives) on every request. API answers get
 * API_HEADERS; Swagger UI under /docs keeps the policy it needs (it styles itself inline and loads
 * its bundle from /docs), and HTML pages helmet's document headers.
 */
export function setSecurityHeaders(fastify: FastifyInstance, config: AppConfig): void {
  const api = headersOf(API_HEADERS);
  // A page's own policy (@Header, on success) replaces this one; its error answers keep it.
  const page = headersOf({ contentSecurityPolicy: API_HEADERS.contentSecurityPolicy, xFrameOptions: { action: 'deny' } });
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
    const route = request.routeOptions;
    void reply.headers(route.config.gatehouseHtmlPage === true ? page : route.url?.startsWith('/docs') ? docs : api);
    done();
  });
}
