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

export interface TtlCacheOptions<V> {
  /** The staleness bound: an entry is trusted this long after its read started, never longer. */
  ttlMs: number;
  /** Beyond this many entries, the least recently used one goes. */
  maxEntries: number;
  /** Which loaded values are kept (all by default); the others are answered, not cached, and drop the key's old entry. */
  keep?: (value: V) => boolean;
}

/**
 * The one in-memory cache: bounded (least recently used out first), each entry trusted for
 * `ttlMs` at most as measured by the app's Clock, so tests can move it. An entry whose age is
 * negative (the clock went back) counts as stale. lru-cache's own TTL is not used: it would trust
 * such an entry, cannot hold `undefined`, and drops what `peekStale` must still see.
 *
 * Races have one answer. Concurrent loads of one key share one read. Every `forget`,
 * `forgetWhere` and `clear` bumps a generation; a read that started before the bump may predate
 * the change that caused it, so it is done once more and that second read is answered (and
 * cached, unless yet another invalidation overlapped it too). An invalidation therefore always
 * wins over a load in flight on this instance; other instances see the change within `ttlMs`.
 *
 * A hit is synchronous (`peek`): one map lookup and one clock read, no allocation.
 */
export class TtlCache<K extends NonNullable<unknown>, V> {
  private readonly entries: LRUCache<K, Cached<V>>;
  private readonly inFlight = new Map<K, Promise<V>>();
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly options: TtlCacheOptions<V>,
  ) {
    this.entries = new LRUCache({ max: options.maxEntries });
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
    let pending = this.inFlight.get(key);
    if (!pending) {
      const reading: Promise<V> = this.read(key, load).finally(() => {
        if (this.inFlight.get(key) === reading) this.inFlight.delete(key);
      });
      pending = reading;
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** Caches `value` as read now (for answers learned without `load`). */
  set(key: K, value: V): void {
    this.entries.set(key, { value, readAt: this.clock.nowMs() });
  }

  forget(key: K): void {
    this.generation++;
    this.entries.delete(key);
  }

  /** Forgets every entry whose value matches (a scan: for rare events such as a role change). */
  forgetWhere(matches: (value: V, key: K) => boolean): void {
    this.generation++;
    const doomed: K[] = [];
    for (const [key, cached] of this.entries.entries()) if (matches(cached.value, key)) doomed.push(key);
    for (const key of doomed) this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  private async read(key: K, load: () => Promise<V>): Promise<V> {
    let generation = this.generation;
    let readAt = this.clock.nowMs();
    let value = await load();
    if (generation !== this.generation) {
      generation = this.generation;
      readAt = this.clock.nowMs();
      value = await load();
      if (generation !== this.generation) return value;
    }
    // A value not kept still supersedes what was cached for the key (an entry for a key since deleted).
    if (this.options.keep?.(value) ?? true) this.entries.set(key, { value, readAt });
    else this.entries.delete(key);
    return value;
  }
}
