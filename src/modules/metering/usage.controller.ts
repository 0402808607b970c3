import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Principal } from '../../common/auth/principal';
import { Language } from '../../common/i18n/language';
import { RequestLanguage } from '../../common/i18n/request-language.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { AccountIdParamsDto } from '../subscriptions/subscriptions.schemas';
import { MySubscriptionResponseDto, SubscriptionUsageResponseDto } from './usage.schemas';
import { UsageService } from './usage.service';

/** The subscription routes that show quota usage: metering owns the counters and their windows. */
@ApiTags('Subscriptions')
@Controller('v1')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Authenticated({ allowInactive: true, metered: 'unmetered' })
  @Get('subscriptions/me')
  @ApiOperation({ summary: "The signed-in user's subscription (NONE until it has one), with its quota usage" })
  @ZodResponse({ status: 200, type: MySubscriptionResponseDto })
  getMySubscription(@CurrentPrincipal() principal: Principal, @RequestLanguage() lang: Language) {
    return this.usage.mine(principal, lang);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Get('subscriptions/:accountId/usage')
  @ApiOperation({ summary: "One account's quota usage in the current windows of its plan (ADMIN)" })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: SubscriptionUsageResponseDto })
  getSubscriptionUsage(@Param() params: AccountIdParamsDto) {
    return this.usage.forAccount(params.accountId);
  }
}
