import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { DomainError } from '../errors/domain-error';
import { FixedWindowMemoryStorage } from './fixed-window-memory-storage';

export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');
const STORAGE_RETRY_AFTER_SECONDS = 5;

export interface RateLimitTake {
  blocked: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window (or the block) ends, at least 1. */
  secondsLeft: number;
}

type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** One request counted against a fixed-window limit, in memory or in Redis (RATE_LIMIT_STORAGE). */
@Injectable()
export class RateLimiter {
  /** Set when the counters are in this process: then a take is answered without a promise. */
  private readonly memory: FixedWindowMemoryStorage | undefined;

  constructor(@Inject(RATE_LIMIT_STORAGE) private readonly storage: ThrottlerStorage) {
    this.memory = storage instanceof FixedWindowMemoryStorage ? storage : undefined;
  }

  /**
   * Counts one request of `key` (a user or an IP) under `policy`. The policy is part of the bucket:
   * the in-memory storage blocks per key, and one route's limit must not block the same client on
   * every other route. In memory the answer is synchronous (O(1), no promise or microtask); with
   * Redis it is a promise. `await` takes either.
   */
  take(policy: string, key: string, terms: { count: number; windowSeconds: number }): RateLimitTake | Promise<RateLimitTake> {
    const windowMs = terms.windowSeconds * 1000;
    const bucket = `${policy}:${key}`;
    if (this.memory) return takeOf(this.memory.hit(bucket, windowMs, terms.count, windowMs, policy), terms.count);
    return this.storage.increment(bucket, windowMs, terms.count, windowMs, policy).then(
      (record) => takeOf(record, terms.count),
      (error: unknown) => {
        // Without its counters a limit cannot be enforced; serving unlimited would let a Redis
        // outage switch off brute-force protection, so the request is refused as retryable.
        throw new DomainError('SERVICE_UNAVAILABLE', { cause: error, params: { retryAfter: STORAGE_RETRY_AFTER_SECONDS } });
      },
    );
  }
}

function takeOf(record: ThrottlerRecord, limit: number): RateLimitTake {
  return {
    blocked: record.isBlocked,
    limit,
    remaining: Math.max(0, limit - record.totalHits),
    secondsLeft: Math.max(1, record.isBlocked ? record.timeToBlockExpire : record.timeToExpire),
  };
}
