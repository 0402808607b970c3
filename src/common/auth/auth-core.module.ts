import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthenticationGuard } from './authentication.guard';
import { RateLimitGuard } from '../throttling/rate-limit.guard';
import { ThrottlingModule } from '../throttling/throttling.module';
import { MeteringGuard } from '../metering/metering.guard';
import { RolesGuard } from './roles';

/**
 * The global guard chain, in this order: throttle, then authenticate, then authorize, then meter
 * (so a refused call is never counted). The metering module provides the Meter.
 */
@Module({
  imports: [ThrottlingModule],
  providers: [
    { provide: APP_GUARD, useExisting: RateLimitGuard },
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: MeteringGuard },
  ],
})
export class AuthCoreModule {}
