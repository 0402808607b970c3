import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors/domain-error';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { ALLOW_INACTIVE } from './active-account';
import { ApiKeyPrincipal, ApiKeyScope, Principal, Role } from './principal';

const ROLES = 'gatehouse:roles';
export const ALLOW_VERIFY_KEY = 'gatehouse:allowVerifyKey';

/** Restricts a route to the given roles (403 otherwise), and documents the 403. */
export const Roles = (...roles: Role[]) => applyDecorators(SetMetadata(ROLES, roles), ApiProblems('FORBIDDEN', 'INSUFFICIENT_SCOPE'));

/** Opens the route to a `verify`-scope key, which every other route refuses: the access check's. */
export const AllowVerifyKey = () => SetMetadata(ALLOW_VERIFY_KEY, true);

const READ_METHODS = new Set(['GET', 'HEAD']);

/** The key scopes that may make a request, by what the route is; a verify key only where the route opens to it. */
const SCOPES_FOR: Record<'read' | 'write' | 'admin', { plain: ApiKeyScope[]; withVerify: ApiKeyScope[] }> = {
  read: { plain: ['read-only', 'read-write', 'admin'], withVerify: ['verify', 'read-only', 'read-write', 'admin'] },
  write: { plain: ['read-write', 'admin'], withVerify: ['verify', 'read-write', 'admin'] },
  admin: { plain: ['admin'], withVerify: ['verify', 'admin'] },
};

/**
 * Runs after authentication. An API key's scope must allow the request (a read-only key only
 * reads, a verify key only checks keys); a user (or a key of one) whose account is not ACTIVE
 * reaches only @AllowInactive routes; beyond that, routes without @Roles are open to any
 * authenticated caller, and the role of a key is already capped by its scope.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = request.principal;
    const targets = [context.getHandler(), context.getClass()];
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (principal?.kind === 'apiKey') this.assertScope(principal, request.method, roles, targets);
    if (principal && principal.status !== 'ACTIVE' && !this.reflector.getAllAndOverride<boolean>(ALLOW_INACTIVE, targets)) {
      throw new DomainError(principal.status === 'SUSPENDED' ? 'ACCOUNT_SUSPENDED' : 'ACCOUNT_NOT_ACTIVE');
    }
    if (!roles?.length) return true;
    // A key whose scope falls short was stopped above, and told which scope it needs.
    if (!principal || !roles.includes(principal.role)) throw new DomainError('FORBIDDEN');
    return true;
  }

  private assertScope(principal: ApiKeyPrincipal, method: string, roles: Role[] | undefined, targets: Parameters<Reflector['getAllAndOverride']>[1]): void {
    // Checked first, and nearly free: an admin key may make any request but the access check, which it may make too.
    if (principal.scope === 'admin') return;
    const kind = roles?.length && !roles.includes('USER') ? 'admin' : READ_METHODS.has(method) ? 'read' : 'write';
    const scopes = this.reflector.getAllAndOverride<boolean>(ALLOW_VERIFY_KEY, targets) ? SCOPES_FOR[kind].withVerify : SCOPES_FOR[kind].plain;
    if (!scopes.includes(principal.scope)) throw new DomainError('INSUFFICIENT_SCOPE', { params: { scope: principal.scope, required: scopes } });
  }
}

/** The authenticated caller, as the guard left it on the request. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) throw new DomainError('UNAUTHORIZED');
  return principal;
});
