import { createSecretKey, KeyObject } from 'node:crypto';
import type { JwtModuleOptions } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppConfig } from '../../config/config';
import type { ErrorCode } from '../errors/error-catalog';
import { LANGUAGES } from '../i18n/language';
import { UserPrincipal } from './principal';

/**
 * The claims of an access token. `exp` is required here because jsonwebtoken (under passport-jwt)
 * accepts a token without one (seen here with jsonwebtoken 9).
 */
export const accessTokenClaimsSchema = z.object({
  sub: z.string().min(1),
  /** The login (refresh-token family) this token belongs to; logout ends it. */
  sid: z.string().min(1),
  role: z.enum(['USER', 'ADMIN']),
  status: z.enum(['INACTIVE', 'ACTIVE', 'SUSPENDED']),
  lang: z.enum(LANGUAGES),
  locale: z.string(),
  tz: z.string(),
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  iat: z.number().int(),
  exp: z.number().int(),
});

export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>;

export const JWT_ALGORITHM = 'HS256';

export function principalFromClaims(claims: AccessTokenClaims): UserPrincipal {
  return {
    kind: 'user',
    userId: claims.sub,
    sessionId: claims.sid,
    role: claims.role,
    status: claims.status,
    language: claims.lang,
    locale: claims.locale,
    timezone: claims.tz,
  };
}

/** Why a presented access token is refused, as the route guard answers it. */
export type AccessTokenFailure = Extract<ErrorCode, 'ACCESS_TOKEN_EXPIRED' | 'ACCESS_TOKEN_INVALID' | 'UNAUTHORIZED'>;

export type AccessTokenCheck = { principal: UserPrincipal; failure?: undefined } | { principal?: undefined; failure: AccessTokenFailure };

/**
 * The signing key as a KeyObject: given a string, jsonwebtoken first tries it as a PEM public key
 * and then builds a secret key, on every call (about 600 µs per verification here).
 */
export const accessTokenKey = (auth: Pick<AppConfig['auth'], 'jwtSecret'>): KeyObject => createSecretKey(Buffer.from(auth.jwtSecret, 'utf8'));

/** JwtService's options for signing access tokens: algorithm, issuer and audience pinned. */
export const accessTokenJwtOptions = (auth: Pick<AppConfig['auth'], 'jwtSecret' | 'issuer' | 'audience'>): JwtModuleOptions => ({
  secret: accessTokenKey(auth),
  signOptions: { algorithm: JWT_ALGORITHM, issuer: auth.issuer, audience: auth.audience },
});

/**
 * Everything after a `Bearer` scheme (in any case) in Authorization, else the login cookie.
 * `Bearer <token> <junk>` is then not a token and is refused as invalid: it neither falls back to
 * the cookie, which the CSRF check did not judge, nor authenticates a request the rate limiter
 * counted by IP instead of by user.
 */
export function accessTokenOf(request: FastifyRequest, cookieName: string): string | undefined {
  const [, scheme, value] = /^\s*(\S+)\s+(.*?)\s*$/.exec(request.headers.authorization ?? '') ?? [];
  if (scheme?.toLowerCase() === 'bearer') return value;
  return request.cookies?.[cookieName] || undefined;
}
