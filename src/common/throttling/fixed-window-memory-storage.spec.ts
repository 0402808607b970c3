import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FixedWindowMemoryStorage } from './fixed-window-memory-storage';

describe('FixedWindowMemoryStorage (the Redis script’s semantics, in memory)', () => {
  let storage: FixedWindowMemoryStorage;
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-12-03T10:00:00.000Z') });
    storage = new FixedWindowMemoryStorage();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const take = (key = 'ip:1', limit = 3) => storage.increment(key, 60_000, limit, 60_000, 'public');

  it('counts up to the limit, then blocks for blockDuration; the window and the block end together', async () => {
    for (let hit = 1; hit <= 3; hit++) expect(await take()).toEqual({ totalHits: hit, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    vi.advanceTimersByTime(10_000);
    expect(await take()).toEqual({ totalHits: 4, timeToExpire: 50, isBlocked: true, timeToBlockExpire: 60 });
    expect(await take()).toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    vi.advanceTimersByTime(50_000);
    // The window is over but the block (started 10 s in) is not.
    expect(await take()).toMatchObject({ totalHits: 1, isBlocked: true, timeToBlockExpire: 10 });
    vi.advanceTimersByTime(10_000);
    expect(await take()).toMatchObject({ totalHits: 2, isBlocked: false });
  });

  it('keeps keys and throttler names apart', async () => {
    for (let hit = 0; hit < 4; hit++) await take('ip:1');
    expect(await take('ip:2')).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await storage.increment('ip:1', 60_000, 3, 60_000, 'login')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('holds one counter per key however many hits it takes, and the sweep drops ended windows', async () => {
    for (let hit = 0; hit < 100_000; hit++) await take('busy', 1_000_000);
    await take('quiet');
    expect(storage.size).toBe(2);
    vi.advanceTimersByTime(60_001);
    storage.sweep(Date.now());
    expect(storage.size).toBe(0);
  });
});
