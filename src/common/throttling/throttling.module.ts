import { Inject, Logger, Module, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { BackgroundTasks } from '../background';
import { lazyRequire } from '../lazy-require';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { FixedWindowMemoryStorage, SWEEP_INTERVAL_MS } from './fixed-window-memory-storage';
import { RATE_LIMIT_STORAGE, RateLimiter } from './rate-limiter';

/** Required only with REDIS_URL: without it, neither is loaded. */
const ioredis = lazyRequire<typeof import('ioredis')>('ioredis');
const redisStorage = lazyRequire<typeof import('@nest-lab/throttler-storage-redis')>('@nest-lab/throttler-storage-redis');

/** The rate-limit Redis client, or null without REDIS_URL; readiness pings it. */
export const RATE_LIMIT_REDIS = Symbol('RATE_LIMIT_REDIS');

/**
 * During an outage every command fails at once instead of queueing (enableOfflineQueue: false),
 * and a Redis that accepts connections but never answers fails after the command timeout; either
 * way the request answers 503 (rate-limiter.ts). Reconnection goes on in the background, so
 * the limits work again as soon as Redis is back, without a restart.
 */
export function createRateLimitRedis(config: AppConfig): Redis {
  const redis = new (ioredis().default)(config.rateLimit.redisUrl!, {
    keyPrefix: `${config.rateLimit.redisKeyPrefix}ratelimit:`,
    commandTimeout: config.rateLimit.redisCommandTimeoutMs,
    connectTimeout: Math.max(1_000, config.rateLimit.redisCommandTimeoutMs),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  // Without a listener, ioredis reports every failed reconnect as an unhandled error; one warning
  // per outage is enough.
  const logger = new Logger('RateLimitRedis');
  let up = true;
  redis.on('error', (error: Error) => {
    if (up) logger.warn(`Redis unavailable, rate-limited routes answer 503: ${error.message}`);
    up = false;
  });
  redis.on('ready', () => {
    if (!up) logger.log('Redis is back');
    up = true;
  });
  return redis;
}

/**
 * Rate-limit counters: in memory by default (each instance counts alone), or in Redis with
 * REDIS_URL, where an atomic script makes every instance share one exact limit.
 */
@Module({
  providers: [
    {
      provide: RATE_LIMIT_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => (config.rateLimit.redisUrl ? createRateLimitRedis(config) : null),
    },
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [RATE_LIMIT_REDIS],
      useFactory: (redis: Redis | null) => (redis ? new (redisStorage().ThrottlerStorageRedisService)(redis) : new FixedWindowMemoryStorage()),
    },
    RateLimiter,
  ],
  exports: [RATE_LIMIT_STORAGE, RATE_LIMIT_REDIS, RateLimiter],
})
export class ThrottlingModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Optional() @Inject(RATE_LIMIT_REDIS) private readonly redis: Redis | null,
    @Inject(RATE_LIMIT_STORAGE) private readonly storage: ThrottlerStorage,
    private readonly background: BackgroundTasks,
  ) {}

  onModuleInit() {
    const { storage } = this;
    if (!(storage instanceof FixedWindowMemoryStorage)) return;
    this.background.every('rate-limit window sweep', SWEEP_INTERVAL_MS, () => Promise.resolve(storage.sweep(Date.now())), { atStart: false });
  }

  onApplicationShutdown() {
    this.redis?.disconnect();
  }
}
