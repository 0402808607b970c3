import type { FastifyInstance } from 'fastify';
import pino, { Logger as Pino } from 'pino';

/** Liveness probes hit this every few seconds; a line for each would drown out real traffic. */
const UNLOGGED_ROUTES = new Set(['/health/live']);
const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/**
 * One compact line per answered request, written once the response is finished: method, route
 * pattern (the path only when no route matched), status, duration in ms, request id, and who
 * called (principal and API key ids). Never headers, bodies or query strings.
 *
 * The line is pino's own format (level, time, the logger's bindings, the fields, msg), but its
 * fields are fixed and hold no secret, so it is built here as one string and written to pino's
 * destination: pino's generic path (redaction, serializers, a key walk per line) cost more than
 * the rest of the line. A destination that wants pino's metadata (a multistream) still gets the
 * line through pino. Errors keep their own, redacted, lines from the problem writer.
 */
export function logEachResponse(fastify: FastifyInstance, logger: Pino): void {
  const stream = (logger as unknown as Record<symbol, { write(line: string): unknown } | undefined>)[pino.symbols.streamSym];
  const direct = stream !== undefined && !(stream as Record<symbol, unknown>)[pino.symbols.needsMetadataGsym];
  const bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  const access = logger.child({}, { redact: { paths: [] } });
  // Methods and route patterns are a small fixed set: each is quoted once, not on every line.
  const quoted = new Map<string, string>();
  const quote = (text: string): string => {
    let json = quoted.get(text);
    if (json === undefined) quoted.set(text, (json = JSON.stringify(text)));
    return json;
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    const route = request.routeOptions.url;
    if (!logger.isLevelEnabled(level) || (route !== undefined && UNLOGGED_ROUTES.has(route))) return done();
    const principal = request.principal;
    const ms = Math.round(reply.elapsedTime * 100) / 100;
    const keyId = principal?.kind === 'apiKey' ? principal.apiKeyId : undefined;
    if (direct) {
      const where = route === undefined ? `"path":${JSON.stringify(request.url.split('?', 1)[0])}` : `"route":${quote(route)}`;
      stream.write(
        `{"level":${LEVELS[level]},"time":${Date.now()}${bindings},"method":${quote(request.method)},${where},"status":${status},"ms":${ms},` +
          `"requestId":${JSON.stringify(request.id)}${principal ? `,"principalId":${JSON.stringify(principal.userId)}` : ''}` +
          `${keyId ? `,"keyId":${JSON.stringify(keyId)}` : ''},"msg":"request completed"}\n`,
      );
    } else {
      access[level](
        {
          method: request.method,
          ...(route === undefined ? { path: request.url.split('?', 1)[0] } : { route }),
          status,
          ms,
          requestId: request.id,
          principalId: principal?.userId,
          keyId,
        },
        'request completed',
      );
    }
    done();
  });
}
