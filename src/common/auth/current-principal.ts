import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors/domain-error';
import type { Principal } from './principal';

/** The authenticated caller, as the route guard left it on the request. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) throw new DomainError('UNAUTHORIZED');
  return principal;
});

/** The caller on an enrolment route (`acceptsSetupChallenge`): undefined when it came with a challenge instead of a credential. */
export const OptionalPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal | undefined => context.switchToHttp().getRequest<FastifyRequest>().principal,
);
