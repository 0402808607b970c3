import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Principal } from '../../common/auth/principal';
import { Language } from '../../common/i18n/language';
import { RequestLanguage } from '../../common/i18n/request-language.decorator';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { SubscriptionResponseDto } from '../subscriptions/subscriptions.schemas';
import { SubscriptionCheckoutCreateDto, SubscriptionCheckoutResponseDto } from './billing.schemas';
import { SubscriptionCheckoutService } from './subscription-checkout.service';

@ApiTags('Subscriptions')
@Controller('v1')
export class SubscriptionCheckoutController {
  constructor(private readonly billing: SubscriptionCheckoutService) {}

  @Authenticated({ metered: 'unmetered' })
  @Post('subscriptions/checkout')
  @Idempotent()
  @ApiOperation({
    summary: 'Buy a paid plan: a Stripe Checkout Session in subscription mode for your account',
    description:
      "The plan becomes ACTIVE when Stripe reports the session completed; the account's one Stripe customer is created on its first checkout. " +
      'An account has one open session: the same plan and links (asked again, or concurrently) answer that session; another plan or links expire it at Stripe and open a new one.',
  })
  @ApiProblems(
    'ACCOUNT_NOT_ACTIVE',
    'PLAN_NOT_PURCHASABLE',
    'PLAN_NOT_ON_STRIPE',
    'STRIPE_SUBSCRIPTION_EXISTS',
    'CHECKOUT_IN_PROGRESS',
    'UPSTREAM_FAILED',
    'SERVICE_UNAVAILABLE',
  )
  @ZodResponse({ status: 201, type: SubscriptionCheckoutResponseDto })
  createSubscriptionCheckout(@CurrentPrincipal() principal: Principal, @Body() dto: SubscriptionCheckoutCreateDto) {
    return this.billing.checkout(principal, dto);
  }

  @Authenticated()
  @Post('subscriptions/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel at period end: the plan keeps working until then (a Stripe subscription is cancelled through Stripe)' })
  @ApiProblems('ACCOUNT_NOT_ACTIVE', 'UPSTREAM_FAILED', 'SERVICE_UNAVAILABLE')
  @ZodResponse({ status: 200, type: SubscriptionResponseDto })
  cancelSubscription(@CurrentPrincipal() principal: Principal, @RequestLanguage() lang: Language) {
    return this.billing.cancel(principal, lang);
  }
}
