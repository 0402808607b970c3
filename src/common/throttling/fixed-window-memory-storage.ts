import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Window {
  hits: number;
  endsAt: number;
  blockedUntil: number;
}

/** How often ThrottlingModule has the ended windows swept. */
export const SWEEP_INTERVAL_MS = 60_000;

/**
 * The in-memory rate-limit storage: one counter per key and window, O(1) a request, with the same
 * fixed-window semantics as the Redis storage's script (@nest-lab/throttler-storage-redis: INCR,
 * expiry at the window's end, a block of `blockDuration` once past the limit). @nestjs/throttler's
 * own memory storage keeps every hit's expiry and filters them on each request: with a generous
 * limit on one busy key (a vendor's server checking access 600,000 times a minute) that is a
 * scan of up to the whole minute's hits per request.
 */
export class FixedWindowMemoryStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerRecord> {
    return Promise.resolve(this.hit(key, ttl, limit, blockDuration, throttlerName));
  }

  /** increment() without the promise: the rate limiter's synchronous path. */
  hit(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): ThrottlerRecord {
    const now = Date.now();
    const id = `${key}:${throttlerName}`;
    let window = this.windows.get(id);
    if (!window || window.endsAt <= now) {
      window = { hits: 0, endsAt: now + ttl, blockedUntil: window?.blockedUntil ?? 0 };
      this.windows.set(id, window);
    }
    window.hits++;
    let blocked = window.blockedUntil > now;
    if (!blocked && window.hits > limit) {
      window.blockedUntil = now + blockDuration;
      blocked = true;
    }
    return {
      totalHits: window.hits,
      timeToExpire: Math.ceil((window.endsAt - now) / 1000),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? Math.ceil((window.blockedUntil - now) / 1000) : 0,
    };
  }

  /** Drops windows that ended and blocks that ran out: memory holds only the current minute's keys. */
  sweep(now: number): void {
    for (const [id, window] of this.windows) if (window.endsAt <= now && window.blockedUntil <= now) this.windows.delete(id);
  }

  /** How many keys are held (for tests). */
  get size(): number {
    return this.windows.size;
  }
}
