import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../../common/auth/access.decorators';
import { RawBody } from '../../common/http/raw-body.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { BillingEventsService } from './billing-events.service';
import { WebhookReceivedDto } from './billing.schemas';

@ApiTags('Webhooks')
@Controller('v1/webhooks')
export class BillingEventsController {
  constructor(private readonly events: BillingEventsService) {}

  /** Open to Stripe: the signature is the credential, and Stripe's bursts are not rate limited. */
  @Public({ skipRateLimit: true })
  @Post('stripe')
  @RawBody()
  @HttpCode(200)
  @ApiOperation({ summary: 'Stripe events: verified by signature, stored once by event id, then applied' })
  @ApiProblems('INVALID_SIGNATURE')
  @ZodResponse({ status: 200, type: WebhookReceivedDto })
  receiveStripeEvent(@Req() request: FastifyRequest, @Headers('stripe-signature') signature: string | undefined) {
    return this.events.receive(request.rawBody, signature);
  }
}
