import type { ThrottlerStorage } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error';
import { FixedWindowMemoryStorage } from './fixed-window-memory-storage';
import { RateLimiter } from './rate-limiter';

const terms = { count: 2, windowSeconds: 60 };

describe('RateLimiter', () => {
  const memory = new FixedWindowMemoryStorage();

  it('answers from memory synchronously: no promise, the same counts', () => {
    const limiter = new RateLimiter(memory);
    const first = limiter.take('public', 'ip:1', terms);
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toEqual({ blocked: false, limit: 2, remaining: 1, secondsLeft: 60 });
    expect(limiter.take('public', 'ip:1', terms)).toEqual({ blocked: false, limit: 2, remaining: 0, secondsLeft: 60 });
    expect(limiter.take('public', 'ip:1', terms)).toEqual({ blocked: true, limit: 2, remaining: 0, secondsLeft: 60 });
    expect(limiter.take('login', 'ip:1', terms)).toMatchObject({ blocked: false, remaining: 1 });
  });

  it('answers from another storage (Redis) through its promise, and refuses with 503 when it fails', async () => {
    const record = { totalHits: 3, timeToExpire: 12, isBlocked: true, timeToBlockExpire: 40 };
    const working = { increment: () => Promise.resolve(record) } as unknown as ThrottlerStorage;
    await expect(new RateLimiter(working).take('public', 'ip:1', terms)).resolves.toEqual({ blocked: true, limit: 2, remaining: 0, secondsLeft: 40 });
    const failing = { increment: () => Promise.reject(new Error('connection lost')) } as unknown as ThrottlerStorage;
    const error = await Promise.resolve(new RateLimiter(failing).take('public', 'ip:1', terms)).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', options: { params: { retryAfter: 5 } } });
  });
});
