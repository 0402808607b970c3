import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { Authenticated, Public } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { ClientIp } from '../../common/http/client-ip.decorator';
import { IntegrationErrors } from '../../common/errors/integration-problem-writer';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { AuthCookies } from './auth-cookies.service';
import { UserResponseEnvelopeDto } from '../users/users.schemas';
import { LoginAnswerDto, LoginDto, RefreshDto, RegisterDto, SessionResponseDto } from './auth.schemas';
import { AuthService } from './auth.service';

@ApiTags('Auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly cookies: AuthCookies,
  ) {}

  @Public({ rateLimit: 'register' })
  @Post('register')
  @ApiOperation({ summary: 'Create a user (status INACTIVE until the account is activated)' })
  @ApiProblems('USER_EXISTS')
  @ZodResponse({ status: 201, type: UserResponseEnvelopeDto })
  register(@Body() dto: RegisterDto) {
    return this.auth.register(dto);
  }

  @Public({ rateLimit: 'login' })
  @Post('login')
  @ApiOperation({
    summary: 'Log in: tokens in the body, and the same tokens as HttpOnly cookies; or, when a second factor is due, a challenge and no tokens',
  })
  @ApiProblems('INVALID_CREDENTIALS', 'ACCOUNT_SUSPENDED')
  @ZodResponse({ status: 200, type: LoginAnswerDto })
  async login(@Body() dto: LoginDto, @ClientIp() ip: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.cookies.answer(reply, await this.auth.login(dto, ip));
  }

  @Public()
  @Post('refresh')
  @ApiOperation({ summary: 'Exchange a refresh token (body or cookie) for a new pair; the old one stops working' })
  @ApiProblems('REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'ACCOUNT_SUSPENDED', 'CSRF_REJECTED')
  @ZodResponse({ status: 200, type: SessionResponseDto })
  async refresh(@Body() dto: RefreshDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { session, tokens } = await this.auth.refresh(dto.refreshToken ?? this.cookies.refreshTokenFrom(request, true));
    this.cookies.set(reply, tokens);
    return session;
  }

  @Authenticated({ allowInactive: true, metered: 'unmetered' })
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End this login: revoke its refresh-token family and clear the cookies' })
  @ApiNoContentResponse({ description: 'Logged out' })
  async logout(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: RefreshDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.auth.logout(principal, dto.refreshToken ?? this.cookies.refreshTokenFrom(request, false));
    this.cookies.clear(reply);
  }
}

/**
 * The login of the published integration docs: the same service call, cookies and rate limit
 * (the same `login` bucket) as POST /v1/auth/login, with the docs' error format.
 */
@ApiTags('Integration')
@Controller('auth')
export class IntegrationAuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly cookies: AuthCookies,
  ) {}

  @Public({ rateLimit: 'login' })
  @Post('login')
  @IntegrationErrors()
  @ApiOperation({ summary: 'Log in (integration docs): as POST /v1/auth/login, with the integration error format' })
  @ApiProblems('INVALID_CREDENTIALS', 'ACCOUNT_SUSPENDED')
  @ZodResponse({ status: 200, type: LoginAnswerDto })
  async integrationLogin(@Body() dto: LoginDto, @ClientIp() ip: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.cookies.answer(reply, await this.auth.login(dto, ip));
  }
}
