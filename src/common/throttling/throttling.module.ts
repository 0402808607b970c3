import { Module } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { RATE_LIMIT_STORAGE, RateLimitGuard } from './rate-limit.guard';

/**
 * Rate-limit counters: in memory by default (each instance counts alone), or in Redis with
 * REDIS_URL, where an atomic script makes every instance share one exact limit.
 */
@Module({
  providers: [
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        config.rateLimit.redisUrl
          ? new ThrottlerStorageRedisService(config.rateLimit.redisUrl, { keyPrefix: `${config.rateLimit.redisKeyPrefix}ratelimit:`, maxRetriesPerRequest: 2 })
          : new ThrottlerStorageService(),
    },
    RateLimitGuard,
  ],
  exports: [RATE_LIMIT_STORAGE, RateLimitGuard],
})
export class ThrottlingModule {}
