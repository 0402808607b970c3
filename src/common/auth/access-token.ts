import jwt from 'jsonwebtoken';
import { z } from 'zod';
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

/**
 * Verifies an access token the same way the passport strategy does (algorithm, issuer and
 * audience pinned, `exp` required). The rate limiter uses it to count per principal before
 * authentication runs; a token it cannot verify is counted by IP instead.
 */
export function verifyAccessToken(token: string, options: { secret: string; issuer: string; audience: string }): UserPrincipal | undefined {
  try {
    const payload = jwt.verify(token, options.secret, { algorithms: [JWT_ALGORITHM], issuer: options.issuer, audience: options.audience });
    const claims = accessTokenClaimsSchema.safeParse(payload);
    return claims.success ? principalFromClaims(claims.data) : undefined;
  } catch {
    return undefined;
  }
}
