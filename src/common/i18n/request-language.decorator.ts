import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Language, requestLanguage } from './language';

/** The language this request's messages are written in (the user's own, else Accept-Language). */
export const RequestLanguage = createParamDecorator((_data: unknown, context: ExecutionContext): Language =>
  requestLanguage(context.switchToHttp().getRequest<FastifyRequest>()),
);
