import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ZodResponse } from 'nestjs-zod';
import { Principal } from '../../common/auth/principal';
import { Authenticated, Public } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal';
import { ClientIp } from '../../common/http/client-ip.decorator';
import { Language } from '../../common/i18n/language';
import { RequestLanguage } from '../../common/i18n/request-language.decorator';
import { Idempotent } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { LicensesService } from './licenses.service';
import {
  ActivationResponseDto,
  JwksResponseDto,
  LicenseActivateDto,
  LicenseDeactivateDto,
  LicenseDetailResponseDto,
  LicenseGrantDto,
  LicenseGrantedResponseDto,
  LicenseIdParamsDto,
  LicenseListQueryDto,
  LicensePageDto,
  LicenseResponseDto,
  LicenseUpdateDto,
  LicenseValidateDto,
  LicenseValidationResponseDto,
} from './licenses.schemas';

@ApiTags('Licenses')
@Controller('v1/licenses')
export class LicensesController {
  constructor(private readonly licenses: LicensesService) {}

  @Public({ rateLimit: 'licenseValidate' })
  @Post('validate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Check a license key (and optionally a machine and product); VALID answers carry an offline certificate',
    description: "When the license's product has a geoScope, a caller whose IP is outside it gets GEO_RESTRICTED.",
  })
  @ZodResponse({ status: 200, type: LicenseValidationResponseDto })
  validateLicense(@Body() dto: LicenseValidateDto, @RequestLanguage() lang: Language, @ClientIp() ip: string) {
    return this.licenses.validate(dto, lang, ip);
  }

  @Public({ rateLimit: 'licenseActivate' })
  @Post('activate')
  @Idempotent()
  @ApiOperation({
    summary: 'Activate a license on a machine (201), or return its existing activation (200)',
    description: 'A license that cannot be used answers 422 with its validation code (EXPIRED, SUSPENDED or REVOKED), an unknown key 422 LICENSE_NOT_FOUND.',
  })
  @ApiResponse({ status: 200, description: 'Already activated on this machine', type: ActivationResponseDto })
  @ApiProblems('LICENSE_NOT_FOUND', 'EXPIRED', 'SUSPENDED', 'REVOKED', 'TOO_MANY_ACTIVATIONS')
  @ZodResponse({ status: 201, type: ActivationResponseDto })
  async activateLicense(@Body() dto: LicenseActivateDto, @ClientIp() ip: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, activation } = await this.licenses.activate(dto, ip);
    void reply.status(created ? 201 : 200);
    return { activation };
  }

  @Public({ rateLimit: 'licenseDeactivate' })
  @Post('deactivate')
  @HttpCode(204)
  @ApiOperation({ summary: 'Release a machine from a license' })
  @ApiNoContentResponse({ description: 'Deactivated (or was not active)' })
  async deactivateLicense(@Body() dto: LicenseDeactivateDto) {
    await this.licenses.deactivate(dto.key, dto.fingerprint);
  }

  @Public()
  @Get('jwks')
  @ApiOperation({ summary: 'The public key that offline certificates are checked against' })
  @ZodResponse({ status: 200, type: JwksResponseDto })
  getLicenseJwks() {
    return this.licenses.jwks();
  }

  @Authenticated()
  @Get()
  @ApiOperation({ summary: 'Your licenses (an ADMIN sees all)' })
  @ZodResponse({ status: 200, type: LicensePageDto })
  listLicenses(@CurrentPrincipal() principal: Principal, @Query() query: LicenseListQueryDto) {
    return this.licenses.list(principal, query.cursor, query.limit);
  }

  @Authenticated()
  @Get(':id')
  @ApiOperation({ summary: 'One license, with its activations' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: LicenseDetailResponseDto })
  getLicense(@CurrentPrincipal() principal: Principal, @Param() params: LicenseIdParamsDto) {
    return this.licenses.get(principal, params.id);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Grant a license by hand (ADMIN); the key is in this response only' })
  @ZodResponse({ status: 201, type: LicenseGrantedResponseDto })
  grantLicense(@Body() dto: LicenseGrantDto) {
    return this.licenses.grant(dto);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Patch(':id')
  @ApiOperation({ summary: "Change a license's expiry or activation limit (ADMIN)" })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: LicenseResponseDto })
  updateLicense(@Param() params: LicenseIdParamsDto, @Body() dto: LicenseUpdateDto) {
    return this.licenses.update(params.id, dto);
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Post(':id/suspend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Suspend a license (ADMIN)' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: LicenseResponseDto })
  suspendLicense(@Param() params: LicenseIdParamsDto) {
    return this.licenses.setStatus(params.id, 'SUSPENDED');
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Post(':id/reinstate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reinstate a suspended or revoked license (ADMIN)' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: LicenseResponseDto })
  reinstateLicense(@Param() params: LicenseIdParamsDto) {
    return this.licenses.setStatus(params.id, 'ACTIVE');
  }

  @Authenticated({ roles: ['ADMIN'] })
  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a license (ADMIN)' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: LicenseResponseDto })
  revokeLicense(@Param() params: LicenseIdParamsDto) {
    return this.licenses.setStatus(params.id, 'REVOKED');
  }
}
