import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

/** The one-file server that scripts/bundle.ts writes beside dist/main.js. */
export const BUNDLE_FILE = 'server.bundle.js';
/** After start-up, when the functions the boot and the first requests needed are compiled. */
const CACHE_WRITE_DELAY_MS = 10_000;

/** How the bundle's code was had: from the cache, compiled with the cache rejected or absent, or with caching off. */
export type CodeCacheUse = 'used' | 'rejected' | 'absent' | 'off';

export interface LoadedBundle {
  file: string;
  exports: unknown;
  codeCache: CodeCacheUse;
}

/**
 * Runs `<dir>/server.bundle.js` as a CommonJS module and returns its exports, or undefined when
 * there is no bundle there. V8's compiled code for it is kept in `cacheDir` (src/code-cache.ts;
 * none: no cache), one file per bundle and V8 version, written once about ten seconds after start
 * (so it holds what the boot and the first requests compiled, not only the top level) and reused
 * at the next start. A cache V8 rejects (another V8, other flags) is rewritten; one that cannot be
 * read or written (a read-only disk) costs only the compile.
 */
export function loadBundle(dir: string, options: { cacheDir?: string; cacheWriteDelayMs?: number } = {}): LoadedBundle | undefined {
  const file = join(dir, BUNDLE_FILE);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const cacheFile = options.cacheDir === undefined ? undefined : cacheFileFor(options.cacheDir, file);
  const cached = cacheFile ? readOrUndefined(cacheFile) : undefined;
  // The bundle holds no `import()` of its own (src/esm-import.ts stays outside it).
  const script = new Script(Module.wrap(source), { filename: file, cachedData: cached });
  const compiled = script.runInThisContext() as (this: unknown, ...args: unknown[]) => void;

  // The bundle is the main module: its own `require` resolves the packages left outside it
  // (native ones, and those required late) from dist/ upwards, as dist/main.js would.
  const bundle = new Module(file, require.main);
  bundle.filename = file;
  bundle.paths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths(dir);
  const bundleRequire = Object.assign((id: string): unknown => bundle.require(id) as unknown, {
    resolve: (request: string) => (Module as unknown as { _resolveFilename(request: string, parent: Module): string })._resolveFilename(request, bundle),
    main: bundle,
    cache: require.cache,
  });
  compiled.call(bundle.exports, bundle.exports, bundleRequire, bundle, file, dir);
  bundle.loaded = true;

  const codeCache: CodeCacheUse = !cacheFile ? 'off' : cached === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'used';
  if (codeCache === 'absent' || codeCache === 'rejected') {
    setTimeout(() => writeQuietly(cacheFile!, () => script.createCachedData()), options.cacheWriteDelayMs ?? CACHE_WRITE_DELAY_MS).unref();
  }
  return { file, exports: bundle.exports, codeCache };
}

/**
 * Named by the bundle's path, size and time (a rebuild is another file) and V8's version (its cache
 * format). V8 itself rejects a cache made for other flags or another length of source.
 */
function cacheFileFor(dir: string, file: string): string {
  const { size, mtimeMs } = statSync(file);
  const key = createHash('sha256').update(`${file}\0${size}\0${mtimeMs}\0${process.versions.v8}`).digest('hex').slice(0, 32);
  return join(dir, `server-${key}.v8cache`);
}

function readOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Writes through a temporary file and a rename, so a concurrent start never reads half a cache. */
function writeQuietly(path: string, data: () => Buffer): void {
  const partial = `${path}.${process.pid}.tmp`;
  try {
    // `wx`: never through a file (or link) someone else put there first.
    writeFileSync(partial, data(), { flag: 'wx', mode: 0o600 });
    renameSync(partial, path);
  } catch {
    // A cache that cannot be written is only a slower next start.
    rmSync(partial, { force: true });
  }
}
