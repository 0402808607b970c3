import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors/domain-error';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { Principal, Role } from './principal';

const ROLES = 'gatehouse:roles';

/** Restricts a route to the given roles (403 otherwise), and documents the 403. */
export const Roles = (...roles: Role[]) => applyDecorators(SetMetadata(ROLES, roles), ApiProblems('FORBIDDEN'));

/** Runs after authentication; routes without @Roles are open to any authenticated caller. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [context.getHandler(), context.getClass()]);
    if (!roles?.length) return true;
    const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
    if (!principal || !roles.includes(principal.role)) throw new DomainError('FORBIDDEN');
    return true;
  }
}

/** The authenticated caller, as the guard left it on the request. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) throw new DomainError('UNAUTHORIZED');
  return principal;
});
