import { Global, Module } from '@nestjs/common';
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
 * Global only to hand the route guard its ApiKeyVerifier (and metering the usage recorder, for
 * access checks). Auth and OIDC revoke keys through ApiKeysRepository, inside their transactions.
 */
@Global()
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
  exports: [ApiKeyVerifier, ApiKeyUsageRecorder, ApiKeysRepository],
})
export class ApiKeysModule {}
