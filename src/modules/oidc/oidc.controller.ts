import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../common/auth/access.decorators';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { AppConfig, InjectConfig } from '../../config/config';
import { AuthCookies } from '../auth/auth-cookies.service';
import { SIGN_IN_TTL_SECONDS } from './oidc-state';
import { OidcAuthorizeQueryDto, OidcCallbackQueryDto, OidcProviderParamsDto } from './oidc.schemas';
import { callbackPath, OidcService } from './oidc.service';

const LOCATION = { Location: { description: 'Where the browser goes next', schema: { type: 'string' } } };

@ApiTags('Auth')
@Controller('v1/auth/oidc')
export class OidcController {
  constructor(
    private readonly oidc: OidcService,
    private readonly cookies: AuthCookies,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Public()
  @Get(':provider/authorize')
  @ApiOperation({
    summary: 'Start signing in through an OIDC provider: 302 to it, with state, nonce and PKCE verifier in a sealed 10-minute cookie',
  })
  @ApiResponse({ status: 302, description: 'To the provider’s authorization endpoint', headers: LOCATION })
  @ApiProblems('OIDC_PROVIDER_NOT_FOUND')
  async authorizeOidc(@Param() params: OidcProviderParamsDto, @Query() query: OidcAuthorizeQueryDto, @Res() reply: FastifyReply) {
    const { location, cookie, cookiePath } = await this.oidc.authorize(params.provider, query.redirect);
    void reply.setCookie(this.config.oidc.stateCookieName, cookie, { ...this.stateCookie(cookiePath), maxAge: SIGN_IN_TTL_SECONDS });
    return reply.redirect(location, 302);
  }

  @Public()
  @Get(':provider/callback')
  @ApiOperation({
    summary:
      'The provider’s redirect back: validates it, finds, links (verified email) or creates the user, and 302s to the redirect with the login cookies, or with a 2FA challenge; a refusal 302s there with ?error=<code>',
  })
  @ApiResponse({
    status: 302,
    description:
      'To the redirect given to /authorize: signed in (login cookies set); or, with 2FA on, with ?requiredAuthenticatorType=TOTP&challenge=…&challengeExpirationDate=… for POST /v1/auth/2fa/verify (no cookies); or with ?error=<code>',
    headers: LOCATION,
  })
  @ApiProblems('OIDC_PROVIDER_NOT_FOUND', 'OIDC_STATE_INVALID')
  async oidcCallback(
    @Param() params: OidcProviderParamsDto,
    @Query() _query: OidcCallbackQueryDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    const { location, tokens } = await this.oidc.callback(params.provider, search, request.cookies?.[this.config.oidc.stateCookieName]);
    // The sign-in is spent either way: a second callback with the same cookie finds none.
    void reply.clearCookie(this.config.oidc.stateCookieName, this.stateCookie(callbackPath(params.provider)));
    if (tokens) this.cookies.set(reply, tokens);
    return reply.redirect(location, 302);
  }

  private stateCookie(path: string) {
    return { httpOnly: true, sameSite: 'lax', secure: this.config.auth.cookieSecure, path } as const;
  }
}
