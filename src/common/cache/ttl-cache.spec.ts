import { describe, expect, it } from 'vitest';
import { Clock } from '../clock';
import { TtlCache } from './ttl-cache';

class FakeClock extends Clock {
  at = 1_000_000;
  override nowMs(): number {
    return this.at;
  }
}

/** A load that resolves when told to, with what the "database" held when the read started. */
function source(initial: string) {
  const state = { value: initial, reads: 0, release: [] as (() => void)[] };
  const load = () => {
    state.reads++;
    const seen = state.value;
    return new Promise<string>((resolve) => state.release.push(() => resolve(seen)));
  };
  const releaseAll = async () => {
    while (state.release.length > 0) {
      state.release.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { state, load, releaseAll };
}

describe('TtlCache', () => {
  it('trusts an entry for ttlMs after its read started, by the Clock; a clock moved back makes it stale', async () => {
    const clock = new FakeClock();
    const cache = new TtlCache<string, number>(clock, { ttlMs: 5_000, maxEntries: 10 });
    let reads = 0;
    const load = () => Promise.resolve(++reads);
    expect(await cache.get('k', load)).toBe(1);
    clock.at += 4_999;
    expect(cache.peek('k')?.value).toBe(1);
    clock.at += 1;
    expect(cache.peek('k')).toBeUndefined();
    expect(cache.peekStale('k')?.value).toBe(1);
    expect(await cache.get('k', load)).toBe(2);
    clock.at -= 1;
    expect(cache.peek('k')).toBeUndefined();
  });

  it('caches undefined; what `keep` refuses is answered, not cached, and drops the old entry', async () => {
    const cache = new TtlCache<string, string | undefined>(new FakeClock(), { ttlMs: 5_000, maxEntries: 10, keep: (v) => v !== 'no' });
    await cache.get('a', () => Promise.resolve(undefined));
    expect(cache.peek('a')).toEqual({ value: undefined, readAt: 1_000_000 });
    cache.set('b', 'was');
    await cache.load('b', () => Promise.resolve('no'));
    expect(cache.peekStale('b')).toBeUndefined();
  });

  it('with dropWhenStale, lets go of an entry ttlMs of real time after it was stored; without, keeps it for peekStale', async () => {
    const clock = new FakeClock();
    const dropping = new TtlCache<string, string>(clock, { ttlMs: 40, maxEntries: 10, dropWhenStale: true });
    const keeping = new TtlCache<string, string>(clock, { ttlMs: 40, maxEntries: 10 });
    dropping.set('secret', 'opened');
    keeping.set('answer', 'kept');
    expect(dropping.peekStale('secret')?.value).toBe('opened');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(dropping.peekStale('secret')).toBeUndefined();
    expect(keeping.peekStale('answer')?.value).toBe('kept');
  });

  it('holds maxEntries at most, dropping the least recently used', () => {
    const cache = new TtlCache<string, string>(new FakeClock(), { ttlMs: 5_000, maxEntries: 2 });
    cache.set('a', 'A');
    cache.set('b', 'B');
    cache.peek('a');
    cache.set('c', 'C');
    expect([cache.peek('a')?.value, cache.peek('b')?.value, cache.peek('c')?.value]).toEqual(['A', undefined, 'C']);
  });

  it('shares one read between concurrent loads of a key', async () => {
    const cache = new TtlCache<string, string>(new FakeClock(), { ttlMs: 5_000, maxEntries: 10 });
    const { state, load, releaseAll } = source('v1');
    const both = Promise.all([cache.get('k', load), cache.get('k', load)]);
    await releaseAll();
    expect(await both).toEqual(['v1', 'v1']);
    expect(state.reads).toBe(1);
  });

  it('an invalidation wins over a load in flight: the load reads again, and the stale value is never cached', async () => {
    const cache = new TtlCache<string, string>(new FakeClock(), { ttlMs: 5_000, maxEntries: 10 });
    const { state, load, releaseAll } = source('old');
    const first = cache.get('k', load);
    // The change commits and is announced while the first read (which saw "old") is in flight.
    state.value = 'new';
    cache.forget('k');
    const joined = cache.get('k', load);
    await releaseAll();
    expect(await first).toBe('new');
    expect(await joined).toBe('new');
    expect(cache.peek('k')?.value).toBe('new');
  });

  it('a load overlapped by two invalidations answers its second read without caching it', async () => {
    const cache = new TtlCache<string, string>(new FakeClock(), { ttlMs: 5_000, maxEntries: 10 });
    const { state, load } = source('v1');
    const loading = cache.get('k', load);
    cache.clear();
    state.value = 'v2';
    state.release.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    cache.forgetWhere(() => true);
    state.release.shift()!();
    expect(await loading).toBe('v2');
    expect(cache.peek('k')).toBeUndefined();
    expect(state.reads).toBe(2);
  });

  it('a load that starts after an invalidation never joins the read that started before it (the answer it would give predates the change)', async () => {
    const cache = new TtlCache<string, string>(new FakeClock(), { ttlMs: 5_000, maxEntries: 10 });
    const { state, load } = source('live');
    const before = cache.get('k', load);
    // The key is revoked and announced while that read (which saw "live") is still in flight.
    state.value = 'revoked';
    cache.forget('k');
    const after = cache.get('k', load);
    expect(state.reads).toBe(2);
    // The later read answers first; the earlier one, overtaken, then takes the later read's answer.
    state.release[1]!();
    expect(await after).toBe('revoked');
    state.release[0]!();
    expect(await before).toBe('revoked');
    expect(cache.peek('k')?.value).toBe('revoked');
    expect(state.reads).toBe(2);
  });

  it("invalidating one key costs another key's load in flight nothing: no second read", async () => {
    const cache = new TtlCache<string, string>(new FakeClock(), { ttlMs: 5_000, maxEntries: 10 });
    const { state, load, releaseAll } = source('v1');
    const loading = cache.get('k', load);
    cache.forget('other');
    await releaseAll();
    expect(await loading).toBe('v1');
    expect(state.reads).toBe(1);
    expect(cache.peek('k')?.value).toBe('v1');
  });
});
