import { lstatSync, mkdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { compileCacheEnv } from './config/boot-env';

/**
 * Where Node ≥ 22.1 keeps its module compile cache between starts (for the modules outside the
 * bundle, or all of them without one): NODE_COMPILE_CACHE, else `.data/code-cache` in the app's
 * directory, which is as trusted as the code beside it. Never Node's default, the shared temp
 * directory: V8 runs a code cache it accepts without comparing it with the source (it checks only
 * its length), so another local user who could put a file there could run code as this one.
 *
 * The directory is used only when it is ours alone: created 0700 if missing, then it must be a real
 * directory (not a link), owned by this process's user, closed to group and others. Otherwise, or
 * with NODE_DISABLE_COMPILE_CACHE set, nothing is cached: undefined.
 */
export function codeCacheDir(appDir: string, settings = compileCacheEnv()): string | undefined {
  if (settings.disabled) return undefined;
  const dir = settings.dir ?? join(appDir, '.data', 'code-cache');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) return undefined;
    if (process.platform !== 'win32' && (stat.uid !== process.getuid?.() || (stat.mode & 0o077) !== 0)) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** Node ≥ 22.1 compiles the modules outside the bundle once, into `dir`; Node 20 has no such cache. */
export function enableNodeCompileCache(dir: string | undefined): void {
  const { enableCompileCache } = nodeModule as { enableCompileCache?: (dir: string) => unknown };
  if (dir) enableCompileCache?.(dir);
}
