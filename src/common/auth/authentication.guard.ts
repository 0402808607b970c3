import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig } from '../../config/config';
import { DomainError } from '../errors/domain-error';
import { allowedOrigins, isSameSiteRequest } from './csrf';
import { JWT_STRATEGY } from './jwt.strategy';
import { Principal } from './principal';
import { IS_PUBLIC } from './public.decorator';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Global and deny-by-default: every route needs a valid access token (bearer or login cookie)
 * unless it is @Public(). Cookie-authenticated writes must also pass the CSRF origin check.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const viaCookie = !/^Bearer\s/i.test(request.headers.authorization ?? '') && Boolean(request.cookies?.[this.config.auth.cookieName]);
    if (viaCookie && UNSAFE_METHODS.has(request.method) && !isSameSiteRequest(request, allowedOrigins(this.config))) {
      throw new DomainError('CSRF_REJECTED');
    }
    return super.canActivate(context);
  }

  override handleRequest<T = Principal>(error: unknown, principal: T | false, info: unknown, context: ExecutionContext): T {
    if (error instanceof DomainError) throw error;
    if (error || !principal) {
      const name = (info as { name?: string } | undefined)?.name;
      if (name === 'TokenExpiredError') throw new DomainError('ACCESS_TOKEN_EXPIRED');
      if (name === 'JsonWebTokenError' || name === 'NotBeforeError') throw new DomainError('ACCESS_TOKEN_INVALID');
      throw new DomainError('UNAUTHORIZED');
    }
    context.switchToHttp().getRequest<FastifyRequest>().principal = principal as unknown as Principal;
    return principal;
  }
}
