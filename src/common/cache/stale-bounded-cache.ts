/**
 * A bounded in-memory cache whose entries are trusted for `ttlMs` at most: the staleness bound of
 * whatever it holds on other instances. `forget` drops an entry on this instance at once, and a
 * load that started before the forget is not cached (what it read may predate the change).
 */
export class StaleBoundedCache<K, V> {
  private readonly entries = new Map<K, { value: V; loadedAt: number }>();
  private readonly forgottenAt = new Map<K, number>();
  private readonly inFlight = new Map<K, Promise<V>>();

  constructor(private readonly options: { ttlMs: number; maxEntries: number }) {}

  /** The cached value, or `load`'s (concurrent callers of one key share one load). */
  get(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached && Date.now() - cached.loadedAt < this.options.ttlMs) return Promise.resolve(cached.value);
    let pending = this.inFlight.get(key);
    if (!pending) {
      const loading = this.load(key, load).finally(() => {
        // A forget meanwhile may have let a newer load start: that one stays.
        if (this.inFlight.get(key) === loading) this.inFlight.delete(key);
      });
      pending = loading;
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  forget(key: K): void {
    this.forgottenAt.set(key, Date.now());
    this.entries.delete(key);
    this.inFlight.delete(key);
  }

  /** `forget` for every key: loads in flight are not cached either. */
  clear(): void {
    const now = Date.now();
    for (const key of [...this.entries.keys(), ...this.inFlight.keys()]) this.forgottenAt.set(key, now);
    this.entries.clear();
    this.inFlight.clear();
  }

  private async load(key: K, load: () => Promise<V>): Promise<V> {
    const started = Date.now();
    const value = await load();
    if ((this.forgottenAt.get(key) ?? -1) >= started) return value;
    this.prune();
    if (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, loadedAt: Date.now() });
    return value;
  }

  private prune(): void {
    const horizon = Date.now() - this.options.ttlMs;
    for (const [key, at] of this.forgottenAt) if (at < horizon) this.forgottenAt.delete(key);
  }
}
