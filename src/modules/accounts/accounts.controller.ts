import { Body, Controller, Get, HttpCode, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ZodResponse } from 'nestjs-zod';
import { Authenticated, Public } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Principal } from '../../common/auth/principal';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { AcceptedResponseDto } from '../../common/http/accepted.schemas';
import { AccountsService } from './accounts.service';
import { AccountActivationRequestDto, AccountResponseDto, ActivateAccountDto, ActivatePhoneDto, PhoneActivationRequestDto } from './accounts.schemas';

@ApiTags('Accounts')
@Controller('v1/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Authenticated({ allowInactive: true })
  @Get('me')
  @ApiOperation({ summary: "The signed-in user's account" })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: AccountResponseDto })
  getMyAccount(@CurrentPrincipal() principal: Principal) {
    return this.accounts.me(principal);
  }

  @Authenticated({ allowInactive: true })
  @Post('account-activation-request')
  @ApiOperation({
    summary: 'Create the account (201) or, while PENDING, update it (200), and queue a mail with an activation link',
    description:
      'Answers once the mail is queued, without waiting for the mail server. At most MAIL_MAX_PER_ADDRESS_PER_HOUR (5) such mails go to one address per hour; past that it answers 429 with Retry-After and changes nothing.',
  })
  @ApiResponse({ status: 200, description: 'The PENDING account was updated and a new link queued for mailing', type: AccountResponseDto })
  @ApiProblems('FORBIDDEN', 'NOT_FOUND', 'ACCOUNT_ALREADY_ACTIVE', 'ACCOUNT_SUSPENDED')
  @ZodResponse({ status: 201, type: AccountResponseDto })
  async requestAccountActivation(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: AccountActivationRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { created, body } = await this.accounts.requestActivation(principal, dto);
    void reply.status(created ? 201 : 200);
    return body;
  }

  @Public({ rateLimit: 'accountActivate' })
  @Post('activate-account')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Activate the account and its user with the token from the mailed link; no login needed',
    description:
      'The token works once: a second use answers 409 ACCOUNT_ALREADY_ACTIVE. Rate limited per IP (RATE_LIMIT_ACCOUNT_ACTIVATE). Gatehouse serves a page at /activate that posts here.',
  })
  @ApiProblems('INVALID_TOKEN', 'TOKEN_EXPIRED', 'ACCOUNT_ALREADY_ACTIVE', 'ACCOUNT_SUSPENDED')
  @ZodResponse({ status: 200, type: AccountResponseDto })
  activateAccount(@Body() dto: ActivateAccountDto) {
    return this.accounts.activate(dto);
  }

  @Authenticated()
  @Post('phone-number-activation-request')
  @ApiOperation({ summary: 'Text a 6-digit code to the account phone (valid 10 minutes, at most 3 an hour)' })
  @ApiProblems('FORBIDDEN', 'NOT_FOUND', 'UPSTREAM_FAILED')
  @ZodResponse({ status: 202, type: AcceptedResponseDto })
  requestPhoneActivation(@CurrentPrincipal() principal: Principal, @Body() dto: PhoneActivationRequestDto) {
    return this.accounts.requestPhoneVerification(principal, dto);
  }

  @Authenticated()
  @Post('activate-phone-number')
  @HttpCode(200)
  @ApiOperation({ summary: 'Verify the phone with the texted code (5 wrong codes void it)' })
  @ApiProblems('FORBIDDEN', 'NOT_FOUND', 'INVALID_TOKEN', 'TOKEN_EXPIRED')
  @ZodResponse({ status: 200, type: AccountResponseDto })
  activatePhoneNumber(@CurrentPrincipal() principal: Principal, @Body() dto: ActivatePhoneDto) {
    return this.accounts.activatePhone(principal, dto);
  }
}
