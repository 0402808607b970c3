import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

export const FORWARDED_FOR_WARNING =
  "Requests carry X-Forwarded-For but TRUST_PROXY is unset: the client IP (rate limits, logs, activations) is the proxy's. " +
  'Behind a proxy, set TRUST_PROXY to its address or CIDR.';

/**
 * Behind a reverse proxy with TRUST_PROXY unset, every client shares the proxy's IP, so one
 * client's rate limit blocks everyone. That misconfiguration is only visible on live traffic:
 * warn once, on the first request that shows it.
 */
export function warnOnUntrustedForwardedFor(fastify: FastifyInstance, logger = new Logger('TrustProxy')): void {
  let warned = false;
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (!warned && request.headers['x-forwarded-for'] !== undefined) {
      warned = true;
      logger.warn(FORWARDED_FOR_WARNING);
    }
    done();
  });
}
