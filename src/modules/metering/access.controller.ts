import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ZodResponse } from 'nestjs-zod';
import { Authenticated } from '../../common/auth/access.decorators';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { AccessDecisionDto, AccessVerifyDto } from './access.schemas';
import { AccessService } from './access.service';

@ApiTags('Access')
@Controller('v1/access')
export class AccessController {
  constructor(private readonly access: AccessService) {}

  @Authenticated({ roles: ['ADMIN'], verifyKey: true, rateLimit: 'accessVerify' })
  @Post('verify')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: "May this customer's key make this call to the vendor's API? Counts it if so (ADMIN, meant for a verify-scope API key)",
    description:
      "For a vendor whose product is an API: call it for each request a customer makes, with the customer's key, from the vendor's server holding a `verify` key (which can do nothing else; an ADMIN's admin key works too). A denied check answers 200 with `allowed: false` and its `code`, and consumes no quota. The check counts in the customer key's usage statistics under `<apiVersion> <endpoint>` (method VERIFY). With an `Idempotency-Key`, a retry gets the first decision and is not counted again.",
  })
  @ZodResponse({ status: 200, type: AccessDecisionDto })
  verifyAccess(@Body() dto: AccessVerifyDto, @Req() request: FastifyRequest) {
    return this.access.verify(dto, { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 512), requestId: String(request.id) });
  }
}
