import { LRUCache } from 'lru-cache';
import { Clock } from '../clock';

/** A cached value, boxed so that `undefined` ("no such row") can be cached too. */
export interface Cached<V> {
  readonly value: V;
  /** When the read that produced `value` started (Clock ms): its age is measured from there. */
  readonly readAt: number;
}

/** lru-cache defaults a missing options argument to a new `{}`; one shared empty object saves that allocation per hit. */
const NO_OPTIONS = {};
/** Reads one load may make when invalidations keep overtaking them. */
const MAX_READS = 2;

/** A read in flight for one key; `overtaken` once an invalidation of the key happened while it ran. */
interface Flight<V> {
  promise: Promise<V>;
  overtaken: boolean;
}

export interface TtlCacheOptions<V> {
  /** The staleness bound: an entry is trusted this long after its read started, never longer. */
  ttlMs: number;
  /** Beyond this many entries, the least recently used one goes. */
  maxEntries: number;
  /** Which loaded values are kept (all by default); the others are answered, not cached, and drop the key's old entry. */
  keep?: (value: V) => boolean;
  /**
   * For values that must not outlive their use in memory (opened secrets): an entry is also
   * dropped `ttlMs` of real time after it was stored (lru-cache's unref'd timers), so nothing
   * stale is ever kept for `peekStale`. Freshness is still judged by the Clock.
   */
  dropWhenStale?: boolean;
}

/**
 * The one in-memory cache: bounded (least recently used out first), each entry trusted for
 * `ttlMs` at most as measured by the app's Clock, so tests can move it. An entry whose age is
 * negative (the clock went back) counts as stale. lru-cache's own TTL is not used for that: it would
 * trust such an entry, cannot hold `undefined`, and drops what `peekStale` must still see (it only
 * clears memory, with `dropWhenStale`).
 *
 * Races have one answer. Concurrent loads of one key share one read. `forget(key)` marks that
 * key's read in flight as overtaken and lets go of it (`forgetWhere` and `clear` do so for every
 * read in flight): a load that starts after the invalidation never joins a read that started
 * before it, and the overtaken read is neither cached nor answered; its callers get a read that
 * started after the invalidation (two reads at most: a second one overtaken too is answered,
 * uncached). An invalidation therefore always wins over a load in flight on this
 * instance; other instances see the change within `ttlMs`. Invalidating one key never costs
 * another key's loads a second read.
 *
 * A hit is synchronous (`peek`): one map lookup and one clock read, no allocation.
 */
export class TtlCache<K extends NonNullable<unknown>, V> {
  private readonly entries: LRUCache<K, Cached<V>>;
  private readonly inFlight = new Map<K, Flight<V>>();

  constructor(
    private readonly clock: Clock,
    private readonly options: TtlCacheOptions<V>,
  ) {
    this.entries = new LRUCache(options.dropWhenStale ? { max: options.maxEntries, ttl: options.ttlMs, ttlAutopurge: true } : { max: options.maxEntries });
  }

  /** The entry for `key` if it is younger than `ttlMs`. */
  peek(key: K): Cached<V> | undefined {
    const cached = this.entries.get(key, NO_OPTIONS);
    if (!cached) return undefined;
    const age = this.clock.nowMs() - cached.readAt;
    return age >= 0 && age < this.options.ttlMs ? cached : undefined;
  }

  /** The entry for `key` however old: for what may use a stale answer (never to let a request in). */
  peekStale(key: K): Cached<V> | undefined {
    return this.entries.peek(key, NO_OPTIONS);
  }

  /** The fresh cached value, or `load`'s (see the class comment for sharing and invalidation). */
  get(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.peek(key);
    return cached ? Promise.resolve(cached.value) : this.load(key, load);
  }

  /** Reads `key` through `load`, sharing a read already in flight for it. */
  load(key: K, load: () => Promise<V>): Promise<V> {
    return this.loadAttempt(key, load, 1);
  }

  private loadAttempt(key: K, load: () => Promise<V>, attempt: number): Promise<V> {
    const running = this.inFlight.get(key);
    if (running) return running.promise;
    const flight: Flight<V> = { promise: Promise.resolve(undefined as V), overtaken: false };
    flight.promise = this.read(key, load, flight, attempt).finally(() => {
      if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
    });
    this.inFlight.set(key, flight);
    return flight.promise;
  }

  /** Caches `value` as read now (for answers learned without `load`). */
  set(key: K, value: V): void {
    this.entries.set(key, { value, readAt: this.clock.nowMs() });
  }

  forget(key: K): void {
    this.overtake(key);
    this.entries.delete(key);
  }

  /** Forgets every entry whose value matches (a scan: for rare events such as a role change). */
  forgetWhere(matches: (value: V, key: K) => boolean): void {
    // A read in flight has no value to match yet: each is overtaken.
    for (const key of [...this.inFlight.keys()]) this.overtake(key);
    const doomed: K[] = [];
    for (const [key, cached] of this.entries.entries()) if (matches(cached.value, key)) doomed.push(key);
    for (const key of doomed) this.entries.delete(key);
  }

  clear(): void {
    for (const key of [...this.inFlight.keys()]) this.overtake(key);
    this.entries.clear();
  }

  /** The key's read in flight may predate the change being invalidated: no later load joins it, and it caches nothing. */
  private overtake(key: K): void {
    const flight = this.inFlight.get(key);
    if (!flight) return;
    flight.overtaken = true;
    this.inFlight.delete(key);
  }

  private async read(key: K, load: () => Promise<V>, flight: Flight<V>, attempt: number): Promise<V> {
    const readAt = this.clock.nowMs();
    const value = await load();
    if (flight.overtaken) {
      // What a read started after the invalidation cached meanwhile, else such a read.
      const fresher = this.peek(key);
      if (fresher) return fresher.value;
      return attempt < MAX_READS ? this.loadAttempt(key, load, attempt + 1) : value;
    }
    // A value not kept still supersedes what was cached for the key (an entry for a key since deleted).
    if (this.options.keep?.(value) ?? true) this.entries.set(key, { value, readAt });
    else this.entries.delete(key);
    return value;
  }
}
