import type { FastifyInstance } from 'fastify';
import type { Logger as Pino } from 'pino';

/** Liveness probes hit this every few seconds; a line for each would drown out real traffic. */
const UNLOGGED_ROUTES = new Set(['/health/live']);

/**
 * One compact line per answered request, written once the response is finished: method, route
 * pattern (the path only when no route matched), status, duration in ms, request id, and who
 * called (principal and API key ids). Never headers, bodies or query strings.
 *
 * Its fields are fixed and hold no secret, so it is written by a child without the app's
 * redaction: pino's wildcard redaction costs about 25 µs a line, more than the rest of the line.
 * Errors keep their own, redacted, lines from the problem writer.
 */
export function logEachResponse(fastify: FastifyInstance, logger: Pino): void {
  const access = logger.child({}, { redact: { paths: [] } });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    const route = request.routeOptions.url;
    if (access.isLevelEnabled(level) && !(route !== undefined && UNLOGGED_ROUTES.has(route))) {
      const principal = request.principal;
      access[level](
        {
          method: request.method,
          ...(route === undefined ? { path: request.url.split('?', 1)[0] } : { route }),
          status,
          ms: Math.round(reply.elapsedTime * 100) / 100,
          requestId: request.id,
          principalId: principal?.userId,
          keyId: principal?.kind === 'apiKey' ? principal.apiKeyId : undefined,
        },
        'request completed',
      );
    }
    done();
  });
}
