import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors/domain-error';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { ALLOW_INACTIVE } from './active-account';
import { Principal, Role } from './principal';

const ROLES = 'gatehouse:roles';

/** Restricts a route to the given roles (403 otherwise), and documents the 403. */
export const Roles = (...roles: Role[]) => applyDecorators(SetMetadata(ROLES, roles), ApiProblems('FORBIDDEN', 'INSUFFICIENT_SCOPE'));

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Runs after authentication. A read-only API key may only read; a user (or a key of one) whose
 * account is not ACTIVE reaches only @AllowInactive routes; beyond that, routes without @Roles are
 * open to any authenticated caller, and the role of a key is already capped by its scope.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = request.principal;
    if (principal?.kind === 'apiKey' && principal.scope === 'read-only' && !READ_METHODS.has(request.method)) {
      throw new DomainError('INSUFFICIENT_SCOPE');
    }
    const targets = [context.getHandler(), context.getClass()];
    if (principal && principal.status !== 'ACTIVE' && !this.reflector.getAllAndOverride<boolean>(ALLOW_INACTIVE, targets)) {
      throw new DomainError(principal.status === 'SUSPENDED' ? 'ACCOUNT_SUSPENDED' : 'ACCOUNT_NOT_ACTIVE');
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (!roles?.length) return true;
    if (!principal || !roles.includes(principal.role)) {
      // A key whose owner could pass is stopped by its scope, and is told so.
      throw new DomainError(principal?.kind === 'apiKey' && principal.scope !== 'admin' ? 'INSUFFICIENT_SCOPE' : 'FORBIDDEN');
    }
    return true;
  }
}

/** The authenticated caller, as the guard left it on the request. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) throw new DomainError('UNAUTHORIZED');
  return principal;
});
