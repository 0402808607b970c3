import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Authenticated, Public } from '../../common/auth/access.decorators';
import { CurrentPrincipal, OptionalPrincipal } from '../../common/auth/current-principal';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { UserIdParamsDto } from '../users/users.schemas';
import { AuthCookies } from './auth-cookies.service';
import { SessionResponseDto } from './auth.schemas';
import { AuthService } from './auth.service';
import {
  RecoveryCodesResponseDto,
  TotpSetupResponseDto,
  TwoFactorConfirmDto,
  TwoFactorDisableDto,
  TwoFactorSetupDto,
  TwoFactorVerifyDto,
} from './two-factor.schemas';
import { TwoFactorService } from './two-factor.service';

@ApiTags('Auth')
@Controller('v1/auth/2fa')
export class TwoFactorController {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly auth: AuthService,
    private readonly cookies: AuthCookies,
  ) {}

  @Authenticated({ metered: 'unmetered', acceptsSetupChallenge: true, rateLimit: 'twoFactor' })
  @Post('totp/setup')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Start enrolling an authenticator app, with the password (or a sign-in in the last 5 minutes, without one): a new secret and its QR code. 2FA stays off until confirmed; a new setup replaces an unconfirmed one',
  })
  @ApiProblems('PASSWORD_INCORRECT', 'REAUTHENTICATION_REQUIRED', 'TWO_FACTOR_ALREADY_ENABLED', 'TWO_FACTOR_CHALLENGE_INVALID', 'FORBIDDEN')
  @ZodResponse({ status: 200, type: TotpSetupResponseDto })
  setupTotp(@OptionalPrincipal() principal: Principal | undefined, @Body() dto: TwoFactorSetupDto) {
    return this.twoFactor.setup(principal, dto);
  }

  @Authenticated({ metered: 'unmetered', acceptsSetupChallenge: true, rateLimit: 'twoFactor' })
  @Post('totp/confirm')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Switch 2FA on with a code from the app and, as for setup, the password: answers the 10 recovery codes, once, ends the user's other logins and mails the user",
  })
  @ApiProblems(
    'TWO_FACTOR_CODE_INVALID',
    'PASSWORD_INCORRECT',
    'REAUTHENTICATION_REQUIRED',
    'TWO_FACTOR_SETUP_REQUIRED',
    'TWO_FACTOR_ALREADY_ENABLED',
    'TWO_FACTOR_CHALLENGE_INVALID',
    'FORBIDDEN',
  )
  @ZodResponse({ status: 200, type: RecoveryCodesResponseDto })
  confirmTotp(@OptionalPrincipal() principal: Principal | undefined, @Body() dto: TwoFactorConfirmDto) {
    return this.twoFactor.confirm(principal, dto);
  }

  @Public({ rateLimit: 'twoFactor' })
  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Finish a two-factor login: the challenge and a code or a recovery code, for the tokens and cookies' })
  @ApiProblems('TWO_FACTOR_CHALLENGE_INVALID', 'TWO_FACTOR_CODE_INVALID', 'TWO_FACTOR_LOCKED', 'ACCOUNT_SUSPENDED')
  @ZodResponse({ status: 200, type: SessionResponseDto })
  async verifyTwoFactor(@Body() dto: TwoFactorVerifyDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.cookies.answer(reply, await this.auth.verifyTwoFactor(dto));
  }

  @Authenticated({ metered: 'unmetered', rateLimit: 'twoFactor' })
  @Post('disable')
  @HttpCode(204)
  @ApiOperation({ summary: "Switch 2FA off, with the password and a code or a recovery code; ends the user's other logins and mails the user" })
  @ApiProblems('PASSWORD_INCORRECT', 'TWO_FACTOR_CODE_INVALID', 'TWO_FACTOR_LOCKED', 'TWO_FACTOR_NOT_ENABLED', 'FORBIDDEN')
  @ApiNoContentResponse({ description: 'Two-factor login is off' })
  disableTwoFactor(@CurrentPrincipal() principal: Principal, @Body() dto: TwoFactorDisableDto) {
    return this.twoFactor.disable(principal, dto);
  }
}

@ApiTags('Users')
@Controller('v1/users')
export class TwoFactorAdminController {
  constructor(private readonly twoFactor: TwoFactorService) {}

  @Authenticated({ roles: ['ADMIN'] })
  @Post(':id/2fa/reset')
  @HttpCode(204)
  @ApiOperation({ summary: "Switch a user's 2FA off (ADMIN), e.g. after a lost phone; logged as a security event, and the user is mailed" })
  @ApiProblems('NOT_FOUND')
  @ApiNoContentResponse({ description: 'Two-factor login is off for the user' })
  resetTwoFactor(@CurrentPrincipal() principal: Principal, @Param() params: UserIdParamsDto) {
    return this.twoFactor.reset(principal, params.id);
  }
}
