import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import {
  WebhookDeliveryIdParamsDto,
  WebhookDeliveryListQueryDto,
  WebhookDeliveryPageDto,
  WebhookDeliveryResponseDto,
  WebhookRecoverDto,
  WebhookRecoveredResponseDto,
} from './webhook-deliveries.schemas';
import { WebhookEndpointIdParamsDto } from './webhook-endpoints.schemas';

@ApiTags('Webhooks')
@Controller('v1/webhooks')
export class WebhookDeliveriesController {
  constructor(private readonly deliveries: WebhookDeliveriesService) {}

  @Authenticated()
  @Get('deliveries')
  @ApiOperation({ summary: 'Deliveries to your endpoints with their attempts, newest first (an ADMIN sees everyone’s)' })
  @ZodResponse({ status: 200, type: WebhookDeliveryPageDto })
  listWebhookDeliveries(@CurrentPrincipal() principal: Principal, @Query() query: WebhookDeliveryListQueryDto) {
    return this.deliveries.list(principal, query);
  }

  @Authenticated()
  @Get('deliveries/:id')
  @ApiOperation({ summary: 'One delivery: the event sent and every attempt' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: WebhookDeliveryResponseDto })
  getWebhookDelivery(@CurrentPrincipal() principal: Principal, @Param() params: WebhookDeliveryIdParamsDto) {
    return this.deliveries.get(principal, params.id);
  }

  @Authenticated()
  @Post('deliveries/:id/retry')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({ summary: 'Attempt the delivery again now, whatever its state; answers with the new attempt' })
  @ApiProblems('NOT_FOUND', 'CONFLICT')
  @ZodResponse({ status: 200, type: WebhookDeliveryResponseDto })
  retryWebhookDelivery(@CurrentPrincipal() principal: Principal, @Param() params: WebhookDeliveryIdParamsDto) {
    return this.deliveries.retry(principal, params.id);
  }

  @Authenticated()
  @Post('endpoints/:id/recover')
  @Idempotent()
  @HttpCode(202)
  @ApiOperation({ summary: 'Send again every failed delivery of the endpoint created since a time' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 202, type: WebhookRecoveredResponseDto })
  recoverWebhookEndpoint(@CurrentPrincipal() principal: Principal, @Param() params: WebhookEndpointIdParamsDto, @Body() dto: WebhookRecoverDto) {
    return this.deliveries.recover(principal, params.id, dto);
  }

  @Authenticated()
  @Post('endpoints/:id/test')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a ping event to the endpoint now; answers with the delivery and its attempt' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: WebhookDeliveryResponseDto })
  testWebhookEndpoint(@CurrentPrincipal() principal: Principal, @Param() params: WebhookEndpointIdParamsDto) {
    return this.deliveries.test(principal, params.id);
  }
}
