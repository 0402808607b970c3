import { z } from 'zod';
import { LANGUAGES } from '../i18n/language';
import { Principal } from './principal';

/**
 * The claims of an access token. `exp` is required here because jsonwebtoken accepts a token
 * without one (seen here with jsonwebtoken 9).
 */
export const accessTokenClaimsSchema = z.object({
  sub: z.string().min(1),
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

export function principalFromClaims(claims: AccessTokenClaims): Principal {
  return {
    kind: 'user',
    userId: claims.sub,
    role: claims.role,
    status: claims.status,
    language: claims.lang,
    locale: claims.locale,
    timezone: claims.tz,
  };
}
