import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Authenticated } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyUsageService } from './api-key-usage.service';
import {
  ApiKeyAuditPageDto,
  ApiKeyAuditQueryDto,
  ApiKeyCreatedResponseDto,
  ApiKeyCreateDto,
  ApiKeyIdParamsDto,
  ApiKeyListQueryDto,
  ApiKeyPageDto,
  ApiKeyResponseDto,
  ApiKeyUsageQueryDto,
  ApiKeyUsageResponseDto,
} from './api-keys.schemas';

@ApiTags('API keys')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly usage: ApiKeyUsageService,
  ) {}

  @Authenticated()
  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Create an API key; the full key is in this response only' })
  @ApiProblems('FORBIDDEN', 'INSUFFICIENT_SCOPE', 'API_KEY_SUPERSEDED', 'API_KEY_LIMIT_REACHED')
  @ZodResponse({ status: 201, type: ApiKeyCreatedResponseDto })
  createApiKey(@CurrentPrincipal() principal: Principal, @Body() dto: ApiKeyCreateDto) {
    return this.keys.create(principal, dto);
  }

  @Authenticated()
  @Get()
  @ApiOperation({ summary: 'List your API keys (an ADMIN sees everyone’s, and may filter by ownerId)' })
  @ZodResponse({ status: 200, type: ApiKeyPageDto })
  listApiKeys(@CurrentPrincipal() principal: Principal, @Query() query: ApiKeyListQueryDto) {
    return this.keys.list(principal, query);
  }

  @Authenticated()
  @Get(':id')
  @ApiOperation({ summary: 'One API key (never the key itself)' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: ApiKeyResponseDto })
  getApiKey(@CurrentPrincipal() principal: Principal, @Param() params: ApiKeyIdParamsDto) {
    return this.keys.get(principal, params.id);
  }

  @Authenticated()
  @Get(':id/usage')
  @ApiOperation({ summary: "A key's requests, 4xx/5xx counts, error rate and p95 latency per hour or day" })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: ApiKeyUsageResponseDto })
  getApiKeyUsage(@CurrentPrincipal() principal: Principal, @Param() params: ApiKeyIdParamsDto, @Query() query: ApiKeyUsageQueryDto) {
    return this.usage.usageOf(principal, params.id, query);
  }

  @Authenticated()
  @Get(':id/audit-log')
  @ApiOperation({ summary: 'Every request made with the key (test keys too), newest first' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: ApiKeyAuditPageDto })
  getApiKeyAuditLog(@CurrentPrincipal() principal: Principal, @Param() params: ApiKeyIdParamsDto, @Query() query: ApiKeyAuditQueryDto) {
    return this.usage.auditLogOf(principal, params.id, query);
  }

  @Authenticated()
  @Post(':id/rotate')
  @Idempotent()
  @ApiOperation({ summary: 'Replace a key; the old one keeps working for the rotation grace period (24 h), the one before it stops' })
  @ApiProblems('NOT_FOUND', 'CONFLICT', 'INSUFFICIENT_SCOPE', 'API_KEY_SUPERSEDED', 'API_KEY_LIMIT_REACHED')
  @ZodResponse({ status: 201, type: ApiKeyCreatedResponseDto })
  rotateApiKey(@CurrentPrincipal() principal: Principal, @Param() params: ApiKeyIdParamsDto) {
    return this.keys.rotate(principal, params.id);
  }

  @Authenticated()
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke a key at once, with the keys it replaced and every key they created',
    description:
      'Revokes, does not delete: the key stops working at once and stays readable (GET /v1/api-keys/{id}, the list, its usage and audit log) ' +
      'with `revokedAt` set. Revoking a revoked key answers 204 again and keeps its first `revokedAt`.',
  })
  @ApiNoContentResponse({ description: 'Revoked: the key now reads with `revokedAt` set' })
  @ApiProblems('NOT_FOUND', 'INSUFFICIENT_SCOPE', 'API_KEY_SUPERSEDED')
  async revokeApiKey(@CurrentPrincipal() principal: Principal, @Param() params: ApiKeyIdParamsDto) {
    await this.keys.revoke(principal, params.id);
  }
}
