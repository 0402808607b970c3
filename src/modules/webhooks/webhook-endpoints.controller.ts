import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import {
  WebhookEndpointCreatedResponseDto,
  WebhookEndpointCreateDto,
  WebhookEndpointIdParamsDto,
  WebhookEndpointListQueryDto,
  WebhookEndpointPageDto,
  WebhookEndpointResponseDto,
  WebhookEndpointUpdateDto,
  WebhookEventTypesResponseDto,
  WebhookSecretResponseDto,
} from './webhook-endpoints.schemas';

@ApiTags('Webhooks')
@Controller('v1/webhooks')
export class WebhookEndpointsController {
  constructor(private readonly endpoints: WebhookEndpointsService) {}

  @Authenticated()
  @Post('endpoints')
  @Idempotent()
  @ApiOperation({ summary: 'Register an endpoint for outbound events; its signing secret is in this response only' })
  @ApiProblems('FORBIDDEN', 'WEBHOOK_ENDPOINT_LIMIT_REACHED')
  @ZodResponse({ status: 201, type: WebhookEndpointCreatedResponseDto })
  createWebhookEndpoint(@CurrentPrincipal() principal: Principal, @Body() dto: WebhookEndpointCreateDto) {
    return this.endpoints.create(principal, dto);
  }

  @Authenticated()
  @Get('endpoints')
  @ApiOperation({ summary: 'List your webhook endpoints (an ADMIN sees everyone’s, and may filter by ownerId)' })
  @ZodResponse({ status: 200, type: WebhookEndpointPageDto })
  listWebhookEndpoints(@CurrentPrincipal() principal: Principal, @Query() query: WebhookEndpointListQueryDto) {
    return this.endpoints.list(principal, query);
  }

  @Authenticated()
  @Get('endpoints/:id')
  @ApiOperation({ summary: 'One webhook endpoint (never its secret)' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: WebhookEndpointResponseDto })
  getWebhookEndpoint(@CurrentPrincipal() principal: Principal, @Param() params: WebhookEndpointIdParamsDto) {
    return this.endpoints.get(principal, params.id);
  }

  @Authenticated()
  @Patch('endpoints/:id')
  @ApiOperation({ summary: 'Change the URL, event types or description, or disable and enable the endpoint' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: WebhookEndpointResponseDto })
  updateWebhookEndpoint(@CurrentPrincipal() principal: Principal, @Param() params: WebhookEndpointIdParamsDto, @Body() dto: WebhookEndpointUpdateDto) {
    return this.endpoints.update(principal, params.id, dto);
  }

  @Authenticated()
  @Delete('endpoints/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint; nothing more is sent to it' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems('NOT_FOUND')
  async deleteWebhookEndpoint(@CurrentPrincipal() principal: Principal, @Param() params: WebhookEndpointIdParamsDto) {
    await this.endpoints.remove(principal, params.id);
  }

  @Authenticated()
  @Post('endpoints/:id/rotate-secret')
  @Idempotent()
  @ApiOperation({ summary: 'A new signing secret, shown once; the previous one also signs for 24 h' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 201, type: WebhookSecretResponseDto })
  rotateWebhookEndpointSecret(@CurrentPrincipal() principal: Principal, @Param() params: WebhookEndpointIdParamsDto) {
    return this.endpoints.rotateSecret(principal, params.id);
  }

  @Authenticated()
  @Get('event-types')
  @ApiOperation({ summary: 'Every event type an endpoint can receive, with a JSON Schema of its data.object' })
  @ZodResponse({ status: 200, type: WebhookEventTypesResponseDto })
  listWebhookEventTypes() {
    return this.endpoints.eventTypes();
  }
}
