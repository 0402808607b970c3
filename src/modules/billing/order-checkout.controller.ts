import { Body, Controller, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Principal } from '../../common/auth/principal';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { CheckoutSessionCreateDto, CheckoutSessionResponseDto } from './billing.schemas';
import { OrderCheckoutService } from './order-checkout.service';

@ApiTags('Orders')
@Controller('v1')
export class OrderCheckoutController {
  constructor(private readonly checkout: OrderCheckoutService) {}

  @Authenticated()
  @Post('checkout/sessions')
  @Idempotent()
  @ApiOperation({ summary: 'Start a purchase: a PENDING order and a Stripe Checkout Session to pay it' })
  @ApiProblems('OUT_OF_STOCK', 'PRODUCT_INACTIVE', 'UPSTREAM_FAILED', 'SERVICE_UNAVAILABLE')
  @ZodResponse({ status: 201, type: CheckoutSessionResponseDto })
  createCheckoutSession(@CurrentPrincipal() principal: Principal, @Body() dto: CheckoutSessionCreateDto) {
    return this.checkout.create(principal, dto);
  }
}
