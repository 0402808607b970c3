/**
 * Node's own compile-cache variables. The entry reads them before anything else loads (they decide
 * how the rest is compiled), so before the configuration is parsed; they are Node's settings, not
 * the app's, and have no place in env.schema.ts.
 */
export function compileCacheEnv(env: NodeJS.ProcessEnv = process.env): { dir: string | undefined; disabled: boolean } {
  return { dir: env.NODE_COMPILE_CACHE || undefined, disabled: Boolean(env.NODE_DISABLE_COMPILE_CACHE) };
}
