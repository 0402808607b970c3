import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { CheckoutService } from './checkout.service';
import { OrdersService } from './orders.service';
import {
  CheckoutSessionCreateDto,
  CheckoutSessionResponseDto,
  OrderDetailResponseDto,
  OrderIdParamsDto,
  OrderListQueryDto,
  OrderPageDto,
} from './orders.schemas';

@ApiTags('Orders')
@Controller('v1')
export class OrdersController {
  constructor(
    private readonly checkout: CheckoutService,
    private readonly orders: OrdersService,
  ) {}

  @Authenticated()
  @Post('checkout/sessions')
  @Idempotent()
  @ApiOperation({ summary: 'Start a purchase: a PENDING order and a Stripe Checkout Session to pay it' })
  @ApiProblems('OUT_OF_STOCK', 'PRODUCT_INACTIVE', 'UPSTREAM_FAILED', 'SERVICE_UNAVAILABLE')
  @ZodResponse({ status: 201, type: CheckoutSessionResponseDto })
  createCheckoutSession(@CurrentPrincipal() principal: Principal, @Body() dto: CheckoutSessionCreateDto) {
    return this.checkout.create(principal, dto);
  }

  @Authenticated()
  @Get('orders')
  @ApiOperation({ summary: 'Your orders (an ADMIN sees all)' })
  @ZodResponse({ status: 200, type: OrderPageDto })
  listOrders(@CurrentPrincipal() principal: Principal, @Query() query: OrderListQueryDto) {
    return this.orders.list(principal, query.cursor, query.limit);
  }

  @Authenticated()
  @Get('orders/:id')
  @ApiOperation({ summary: 'One order with its items' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: OrderDetailResponseDto })
  getOrder(@CurrentPrincipal() principal: Principal, @Param() params: OrderIdParamsDto) {
    return this.orders.get(principal, params.id);
  }
}
