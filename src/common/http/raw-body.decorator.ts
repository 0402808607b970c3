import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by @RawBody(): the choice travels with the route itself, not with its URL. */
    gatehouseRawBody?: boolean;
  }
  interface FastifyRequest {
    /** The JSON body as received, on routes marked @RawBody(). */
    rawBody?: string;
  }
}

/**
 * Keeps this route's JSON body as received in `request.rawBody`: a signature is computed over the
 * exact bytes, which parsing and re-serialising would not reproduce. Like every Nest route config,
 * it replaces (rather than adds to) another @RouteConfig on the same handler.
 */
export const RawBody = () => RouteConfig({ gatehouseRawBody: true });

export function keepsRawBody(request: FastifyRequest): boolean {
  return request.routeOptions?.config?.gatehouseRawBody === true;
}
