import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * The caller's IP: the socket peer, or, when that peer is a proxy listed in TRUST_PROXY, the
 * right-most untrusted X-Forwarded-For hop (Fastify's trustProxy does the walk).
 */
export const ClientIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  return context.switchToHttp().getRequest<FastifyRequest>().ip;
});
