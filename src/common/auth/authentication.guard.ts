import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig } from '../../config/config';
import { DomainError } from '../errors/domain-error';
import { ApiKeyVerifier, bearerOf } from './api-key-verifier';
import { allowedOrigins, isSameSiteRequest } from './csrf';
import { IS_PUBLIC } from './public.decorator';
import { verifiedAccessToken, verifiedApiKey } from './request-credentials';
import { SessionVerifier } from './session-verifier';
import { ACCEPTS_SETUP_CHALLENGE, carriesChallenge } from './setup-challenge.decorator';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Global and deny-by-default: every route needs a credential unless it is @Public(): an API key
 * (a bearer value with the key prefix), else an access token (bearer or login cookie).
 * Cookie-authenticated writes must also pass the CSRF origin check. A valid access token is not
 * enough on its own: its login must still be live, and it acts with the user's current role.
 * The rate limiter has usually verified the key or token already; that answer is reused.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyVerifier,
    private readonly sessions: SessionVerifier,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const bearer = bearerOf(request.headers.authorization);
    if (bearer && this.apiKeys.isApiKey(bearer)) {
      request.principal = await verifiedApiKey(request, this.apiKeys, bearer);
      return true;
    }
    const viaCookie = !/^Bearer\s/i.test(request.headers.authorization ?? '') && Boolean(request.cookies?.[this.config.auth.cookieName]);
    if (viaCookie && UNSAFE_METHODS.has(request.method) && !isSameSiteRequest(request, allowedOrigins(this.config))) {
      throw new DomainError('CSRF_REJECTED');
    }
    const token = this.accessTokenOf(request);
    if (!token && carriesChallenge(request) && this.reflector.getAllAndOverride<boolean>(ACCEPTS_SETUP_CHALLENGE, [context.getHandler()])) return true;
    if (!token) throw new DomainError('UNAUTHORIZED');
    const check = verifiedAccessToken(request, token, this.config.auth);
    if (check.failure) throw new DomainError(check.failure);
    request.principal = await this.sessions.verify(check.principal);
    return true;
  }

  /**
   * Everything after a `Bearer` scheme (in any case) in Authorization, else the login cookie.
   * `Bearer <token> <junk>` is then not a token and is refused as invalid: it neither falls back to
   * the cookie, which the CSRF check above did not judge, nor authenticates a request the rate
   * limiter (which reads only a well-formed bearer) counted by IP instead of by user.
   */
  private accessTokenOf(request: FastifyRequest): string | undefined {
    const [, scheme, value] = /^\s*(\S+)\s+(.*?)\s*$/.exec(request.headers.authorization ?? '') ?? [];
    if (scheme?.toLowerCase() === 'bearer') return value;
    return request.cookies?.[this.config.auth.cookieName] || undefined;
  }
}
