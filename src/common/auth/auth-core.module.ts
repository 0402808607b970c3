import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthenticationGuard } from './authentication.guard';
import { RateLimitGuard } from '../throttling/rate-limit.guard';
import { ThrottlingModule } from '../throttling/throttling.module';
import { RolesGuard } from './roles';

/** The global guard chain, in this order: throttle, then authenticate, then authorize. */
@Module({
  imports: [ThrottlingModule],
  providers: [
    { provide: APP_GUARD, useExisting: RateLimitGuard },
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
})
export class AuthCoreModule {}
