import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { AppConfig } from '../../config/config';
import type { ErrorCode } from '../errors/error-catalog';
import { LANGUAGES } from '../i18n/language';
import { UserPrincipal } from './principal';

/**
 * The claims of an access token. `exp` is required here because jsonwebtoken accepts a token
 * without one (seen here with jsonwebtoken 9).
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

/** Why a presented access token is refused, as the authentication guard answers it. */
export type AccessTokenFailure = Extract<ErrorCode, 'ACCESS_TOKEN_EXPIRED' | 'ACCESS_TOKEN_INVALID' | 'UNAUTHORIZED'>;

export type AccessTokenCheck = { principal: UserPrincipal; failure?: undefined } | { principal?: undefined; failure: AccessTokenFailure };

/**
 * Verifies an access token: algorithm, issuer and audience pinned, `exp` required. Verified once
 * per request (request-credentials.ts): the rate limiter counts by its user, and the authentication
 * guard answers its failure.
 */
export function checkAccessToken(token: string, auth: Pick<AppConfig['auth'], 'jwtSecret' | 'issuer' | 'audience'>): AccessTokenCheck {
  let payload: unknown;
  try {
    payload = jwt.verify(token, auth.jwtSecret, { algorithms: [JWT_ALGORITHM], issuer: auth.issuer, audience: auth.audience });
  } catch (error) {
    const name = (error as Error | undefined)?.name;
    if (name === 'TokenExpiredError') return { failure: 'ACCESS_TOKEN_EXPIRED' };
    if (name === 'JsonWebTokenError' || name === 'NotBeforeError') return { failure: 'ACCESS_TOKEN_INVALID' };
    return { failure: 'UNAUTHORIZED' };
  }
  const claims = accessTokenClaimsSchema.safeParse(payload);
  return claims.success ? { principal: principalFromClaims(claims.data) } : { failure: 'ACCESS_TOKEN_INVALID' };
}
