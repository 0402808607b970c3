import * as nodeModule from 'node:module';

/**
 * Node ≥ 22.1 keeps the V8 code it compiles for each module on disk (NODE_COMPILE_CACHE, or a
 * directory under the OS temp dir) and reuses it at the next start: a third of the start-up was
 * compiling modules. Node 20 has no such cache and starts as before. Imported first by main.ts,
 * so that every module after it is covered.
 */
const { enableCompileCache } = nodeModule as { enableCompileCache?: () => unknown };
enableCompileCache?.();
