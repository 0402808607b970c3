/**
 * A package required on its first use instead of at boot: for clients that most processes never
 * call, or call long after start-up (SMTP, Redis without REDIS_URL, QR codes, phone metadata).
 * Each one left out of the boot is modules neither compiled before /health/ready nor held in the
 * heap. The one way the app defers a require, so the list of deferred packages is one grep.
 * `T` is the package's type, `typeof import('name')`; Node caches the module itself.
 */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the point is to require late
    loaded ??= require(id) as T;
    return loaded;
  };
}
