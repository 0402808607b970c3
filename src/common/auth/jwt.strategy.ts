import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig, InjectConfig } from '../../config/config';
import { DomainError } from '../errors/domain-error';
import { accessTokenClaimsSchema, JWT_ALGORITHM, principalFromClaims } from './access-token';
import { Principal } from './principal';

export const JWT_STRATEGY = 'jwt';

/** Reads the access token from `Authorization: Bearer`, else from the HttpOnly login cookie. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(@InjectConfig() config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([
        ExtractJwt.fromAuthHeaderAsBearerToken(),
        (request: FastifyRequest) => request.cookies?.[config.auth.cookieName] ?? null,
      ]),
      secretOrKey: config.auth.jwtSecret,
      algorithms: [JWT_ALGORITHM],
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      ignoreExpiration: false,
    });
  }

  validate(payload: unknown): Principal {
    const claims = accessTokenClaimsSchema.safeParse(payload);
    if (!claims.success) throw new DomainError('ACCESS_TOKEN_INVALID');
    return principalFromClaims(claims.data);
  }
}
