import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { DomainError } from '../errors/domain-error';

export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');
const STORAGE_RETRY_AFTER_SECONDS = 5;

export interface RateLimitTake {
  blocked: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window (or the block) ends, at least 1. */
  secondsLeft: number;
}

/** One request counted against a fixed-window limit, in memory or in Redis (RATE_LIMIT_STORAGE). */
@Injectable()
export class RateLimiter {
  constructor(@Inject(RATE_LIMIT_STORAGE) private readonly storage: ThrottlerStorage) {}

  /**
   * Counts one request of `key` (a user or an IP) under `policy`. The policy is part of the bucket:
   * the in-memory storage blocks per key, and one route's limit must not block the same client on
   * every other route.
   */
  async take(policy: string, key: string, terms: { count: number; windowSeconds: number }): Promise<RateLimitTake> {
    const windowMs = terms.windowSeconds * 1000;
    const record = await this.storage.increment(`${policy}:${key}`, windowMs, terms.count, windowMs, policy).catch((error: unknown) => {
      // Without its counters a limit cannot be enforced; serving unlimited would let a Redis
      // outage switch off brute-force protection, so the request is refused as retryable.
      throw new DomainError('SERVICE_UNAVAILABLE', { cause: error, params: { retryAfter: STORAGE_RETRY_AFTER_SECONDS } });
    });
    return {
      blocked: record.isBlocked,
      limit: terms.count,
      remaining: Math.max(0, terms.count - record.totalHits),
      secondsLeft: Math.max(1, record.isBlocked ? record.timeToBlockExpire : record.timeToExpire),
    };
  }
}
