import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig } from '../../config/config';
import { DomainError } from '../errors/domain-error';
import { ApiKeyVerifier, bearerOf } from './api-key-verifier';
import { allowedOrigins, isSameSiteRequest } from './csrf';
import { JWT_STRATEGY } from './jwt.strategy';
import { Principal, UserPrincipal } from './principal';
import { IS_PUBLIC } from './public.decorator';
import { SessionVerifier } from './session-verifier';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Global and deny-by-default: every route needs a credential unless it is @Public(): an API key
 * (a bearer value with the key prefix), else an access token (bearer or login cookie).
 * Cookie-authenticated writes must also pass the CSRF origin check. A valid access token is not
 * enough on its own: its login must still be live, and it acts with the user's current role.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyVerifier,
    private readonly sessions: SessionVerifier,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const bearer = bearerOf(request.headers.authorization);
    if (bearer && this.apiKeys.isApiKey(bearer)) {
      request.principal = await this.apiKeys.verify(bearer);
      return true;
    }
    const viaCookie = !/^Bearer\s/i.test(request.headers.authorization ?? '') && Boolean(request.cookies?.[this.config.auth.cookieName]);
    if (viaCookie && UNSAFE_METHODS.has(request.method) && !isSameSiteRequest(request, allowedOrigins(this.config))) {
      throw new DomainError('CSRF_REJECTED');
    }
    await super.canActivate(context);
    // Here and not in the passport strategy: passport keeps one strategy per name per process.
    request.principal = await this.sessions.verify(request.principal as UserPrincipal);
    return true;
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
