import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ThrottlingModule } from '../throttling/throttling.module';
import { AccessTokenStrategy, ApiKeyStrategy } from './passport-strategies';
import { RouteGuard } from './route.guard';

/**
 * The one global guard (throttle, authenticate, authorize, meter) and the passport strategies it
 * authenticates with. The metering module provides the Meter, the api-keys module the
 * ApiKeyVerifier, the auth module the SessionVerifier.
 */
@Module({
  imports: [DiscoveryModule, ThrottlingModule],
  providers: [AccessTokenStrategy, ApiKeyStrategy, { provide: APP_GUARD, useClass: RouteGuard }],
})
export class AuthCoreModule {}
