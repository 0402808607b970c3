import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { Strategy } from 'passport-strategy';
import { Strategy as CustomStrategy } from 'passport-custom';
import { Strategy as JwtStrategy } from 'passport-jwt';
import { AppConfig, InjectConfig } from '../../config/config';
import { DomainError } from '../errors/domain-error';
import {
  AccessTokenCheck,
  accessTokenClaimsSchema,
  AccessTokenFailure,
  accessTokenKey,
  accessTokenOf,
  JWT_ALGORITHM,
  principalFromClaims,
} from './access-token';
import { ApiKeyVerifier, bearerOf } from './api-key-verifier';
import type { ApiKeyPrincipal, UserPrincipal } from './principal';

type Outcome = { user: unknown } | { failure: unknown } | { error: unknown };

/**
 * One attempt of a strategy on one request, as passport's middleware makes it (a child object of
 * the strategy given success/fail/error), without the middleware: the route guard calls the
 * strategies itself, once each, instead of going through AuthGuard and passport.authenticate.
 */
function attempt(strategy: Strategy, request: FastifyRequest): Promise<Outcome> {
  return new Promise<Outcome>((settle) => {
    const run = Object.create(strategy) as Strategy & Record<'success' | 'fail' | 'error' | 'pass' | 'redirect', (value?: unknown) => void>;
    run.success = (user) => settle({ user });
    run.fail = (failure) => settle({ failure });
    run.error = (error) => settle({ error });
    run.pass = () => settle({ failure: undefined });
    run.redirect = () => settle({ failure: undefined });
    run.authenticate(request as never);
  });
}

/** jsonwebtoken's errors, as the API names them. */
function accessTokenFailure(outcome: Outcome): AccessTokenFailure {
  const reason = 'failure' in outcome ? outcome.failure : 'error' in outcome ? outcome.error : undefined;
  if (reason instanceof DomainError && reason.code === 'ACCESS_TOKEN_INVALID') return 'ACCESS_TOKEN_INVALID';
  const name = (reason as Error | undefined)?.name;
  if (name === 'TokenExpiredError') return 'ACCESS_TOKEN_EXPIRED';
  if (name === 'JsonWebTokenError' || name === 'NotBeforeError') return 'ACCESS_TOKEN_INVALID';
  return 'UNAUTHORIZED';
}

/**
 * The access token (bearer, else the login cookie) verified by passport-jwt: HS256, issuer and
 * audience pinned, against a KeyObject. Its claims give the principal; whether its login is still
 * live is the route guard's next question (the rate limiter counts by the claims alone first).
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(JwtStrategy, 'gatehouse-access-token') {
  constructor(@InjectConfig() config: AppConfig) {
    super({
      jwtFromRequest: (request: FastifyRequest) => accessTokenOf(request, config.auth.cookieName) ?? null,
      // jsonwebtoken takes a KeyObject; passport-jwt's types predate it.
      secretOrKey: accessTokenKey(config.auth) as unknown as Buffer,
      algorithms: [JWT_ALGORITHM],
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    });
  }

  /** `exp` is required here: jsonwebtoken accepts a token without one. */
  validate(payload: unknown): UserPrincipal {
    const claims = accessTokenClaimsSchema.safeParse(payload);
    if (!claims.success) throw new DomainError('ACCESS_TOKEN_INVALID');
    return principalFromClaims(claims.data);
  }

  /** The request's access token judged: its principal from the claims, or why it is refused. */
  async check(request: FastifyRequest): Promise<AccessTokenCheck> {
    const outcome = await attempt(this, request);
    return 'user' in outcome ? { principal: outcome.user as UserPrincipal } : { failure: accessTokenFailure(outcome) };
  }
}

/** An API key presented as a bearer token, verified by the api-keys module (cache, then database). */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(CustomStrategy, 'gatehouse-api-key') {
  constructor(private readonly keys: ApiKeyVerifier) {
    super();
  }

  validate(request: FastifyRequest): Promise<ApiKeyPrincipal> {
    const bearer = bearerOf(request.headers.authorization);
    if (!bearer || !this.keys.isApiKey(bearer)) throw new DomainError('INVALID_API_KEY');
    return this.keys.verify(bearer);
  }

  /** The key's principal, or its DomainError (INVALID_API_KEY, API_KEY_EXPIRED, ACCOUNT_SUSPENDED). */
  async verify(_key: string, request: FastifyRequest): Promise<ApiKeyPrincipal> {
    const outcome = await attempt(this, request);
    if ('user' in outcome) return outcome.user as ApiKeyPrincipal;
    throw 'error' in outcome ? outcome.error : new DomainError('INVALID_API_KEY');
  }
}
