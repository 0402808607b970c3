import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { OrdersService } from './orders.service';
import { OrderDetailResponseDto, OrderIdParamsDto, OrderListQueryDto, OrderPageDto } from './orders.schemas';

@ApiTags('Orders')
@Controller('v1')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

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
