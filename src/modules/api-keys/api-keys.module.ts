import { Module } from '@nestjs/common';
import { ApiKeyVerifier } from '../../common/auth/api-key-verifier';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder';
import { ApiKeyUsageRepository } from './api-key-usage.repository';
import { ApiKeyUsageService } from './api-key-usage.service';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysRetention } from './api-keys.retention';
import { ApiKeysService } from './api-keys.service';

/**
 * API keys and their usage. Exports the route guard's ApiKeyVerifier (handed over by
 * AuthCoreModule.forRoot), the usage service metering records access checks with, and
 * ApiKeysService, through which auth and OIDC revoke keys inside their transactions.
 */
@Module({
  controllers: [ApiKeysController],
  providers: [
    ApiKeysService,
    ApiKeysRepository,
    ApiKeyAuthenticator,
    ApiKeyUsageRecorder,
    ApiKeysRetention,
    ApiKeyUsageRepository,
    ApiKeyUsageService,
    { provide: ApiKeyVerifier, useExisting: ApiKeyAuthenticator },
  ],
  exports: [ApiKeyVerifier, ApiKeyUsageService, ApiKeysService],
})
export class ApiKeysModule {}
