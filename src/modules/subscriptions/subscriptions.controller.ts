import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { Authenticated, Public } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Language } from '../../common/i18n/language';
import { RequestLanguage } from '../../common/i18n/request-language.decorator';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { PlansService } from './plans.service';
import { SubscriptionsService } from './subscriptions.service';
import {
  AccountIdParamsDto,
  PlanCodeParamsDto,
  PlanListResponseDto,
  PlanResponseDto,
  PlanUpdateDto,
  SubscriptionListQueryDto,
  SubscriptionPageDto,
  SubscriptionResponseDto,
  SubscriptionUpdateDto,
} from './subscriptions.schemas';

@ApiTags('Subscriptions')
@Controller('v1')
export class SubscriptionsController {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly plans: PlansService,
  ) {}

  @Public()
  @Get('subscriptions/plans')
  @ApiOperation({ summary: "The preset plans with their limits, prices and geo scopes, in the caller's language" })
  @ZodResponse({ status: 200, type: PlanListResponseDto })
  listPlans(@RequestLanguage() lang: Language) {
    return this.plans.listPresets(lang);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Patch('subscriptions/plans/:code')
  @ApiOperation({
    summary: "Change a preset's limits, rate limit, geo scope, price or Stripe price (ADMIN); running subscriptions keep their terms until their next period",
  })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: PlanResponseDto })
  updatePlan(@Param() params: PlanCodeParamsDto, @Body() dto: PlanUpdateDto, @RequestLanguage() lang: Language) {
    return this.plans.updatePreset(params.code, dto, lang);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Get('subscriptions')
  @ApiOperation({ summary: "Every account's subscription, by status and plan (ADMIN)" })
  @ZodResponse({ status: 200, type: SubscriptionPageDto })
  listSubscriptions(@Query() query: SubscriptionListQueryDto, @RequestLanguage() lang: Language) {
    return this.subscriptions.list({ status: query.status, plan: query.planCode ?? query.plan }, query.cursor, query.limit, lang);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Get('subscriptions/:accountId')
  @ApiOperation({ summary: "One account's subscription (ADMIN)" })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: SubscriptionResponseDto })
  getSubscription(@Param() params: AccountIdParamsDto, @RequestLanguage() lang: Language) {
    return this.subscriptions.forAccount(params.accountId, lang);
  }

  @Authenticated({ metered: 'unmetered' })
  @Post('accounts/update-subscription')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: "Change an account's plan: a preset by planCode, or a custom plan (ADMIN); a new period starts at once",
    description:
      "userId and subscriberId default to the caller and its account: only an ADMIN names another user (else 403), and subscriberId, when given, must be that user's account (else 404); the account must be ACTIVE. planName is the deprecated name of planCode. A paid preset is bought through POST /v1/subscriptions/checkout (402 otherwise) unless an ADMIN assigns it; NONE cancels at once; TRIAL works once per user.",
  })
  @ApiProblems('FORBIDDEN', 'ACCOUNT_NOT_ACTIVE', 'NOT_FOUND', 'PAYMENT_REQUIRED', 'TRIAL_ALREADY_USED', 'STRIPE_SUBSCRIPTION_EXISTS')
  @ZodResponse({ status: 200, type: SubscriptionResponseDto })
  updateSubscription(@CurrentPrincipal() principal: Principal, @Body() dto: SubscriptionUpdateDto, @RequestLanguage() lang: Language) {
    return this.subscriptions.update(principal, dto, lang);
  }
}
