import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allowedOrigins, isSameSiteRequest } from '../../common/auth/csrf';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig, InjectConfig } from '../../config/config';
import type { SignIn } from './auth.schemas';
import { TokenPair } from './tokens.service';

const REFRESH_COOKIE_PATH = '/v1/auth';

/** The two HttpOnly login cookies: the access token for every path, the refresh token for /v1/auth only. */
@Injectable()
export class AuthCookies {
  constructor(@InjectConfig() private readonly config: AppConfig) {}

  set(reply: FastifyReply, tokens: TokenPair): void {
    const base = { httpOnly: true, sameSite: 'lax', secure: this.config.auth.cookieSecure } as const;
    void reply.setCookie(this.config.auth.cookieName, tokens.accessToken.token, { ...base, path: '/', expires: tokens.accessToken.expiresAt });
    void reply.setCookie(this.config.auth.refreshCookieName, tokens.refreshToken.token, {
      ...base,
      path: REFRESH_COOKIE_PATH,
      expires: tokens.refreshToken.expiresAt,
    });
  }

  /** The body of a sign-in, with the cookies when it opened a session (none with a 2FA challenge). */
  answer<T extends SignIn>(reply: FastifyReply, signIn: T): T['answer'] {
    if (signIn.tokens) this.set(reply, signIn.tokens);
    return signIn.answer;
  }

  clear(reply: FastifyReply): void {
    const base = { httpOnly: true, sameSite: 'lax', secure: this.config.auth.cookieSecure } as const;
    void reply.clearCookie(this.config.auth.cookieName, { ...base, path: '/' });
    void reply.clearCookie(this.config.auth.refreshCookieName, { ...base, path: REFRESH_COOKIE_PATH });
  }

  /**
   * The refresh cookie. /v1/auth/refresh is public, so the guard's CSRF rule does not run there;
   * with `checkOrigin` the same origin rule applies here before the cookie is used.
   */
  refreshTokenFrom(request: FastifyRequest, checkOrigin: boolean): string | undefined {
    const token = request.cookies?.[this.config.auth.refreshCookieName];
    if (token && checkOrigin && !isSameSiteRequest(request, allowedOrigins(this.config))) throw new DomainError('CSRF_REJECTED');
    return token;
  }
}
