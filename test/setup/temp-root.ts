import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const PREFIX = 'gatehouse-';

/**
 * One temporary directory per test run. TMPDIR points into it before any worker is forked, so
 * every mkdtemp of every test file (data directories, .env files, generated JWT secrets) lands
 * inside it, and teardown removes it whole, even after a failed or interrupted test.
 */
export async function useRunTempRoot(): Promise<() => Promise<void>> {
  const systemTmp = tmpdir();
  // Every vitest project runs the global setup: the first one's root serves the whole run. Nesting
  // roots would also push Chromium's singleton socket path past the 108-byte limit of a Unix socket.
  if (basename(systemTmp).startsWith(`${PREFIX}test-run-`)) return () => Promise.resolve();
  const startedAt = Date.now();
  const root = await mkdtemp(join(systemTmp, `${PREFIX}test-run-`));
  // As root, the embedded Postgres runs as "postgres", which must be able to enter its parents.
  await chmod(root, 0o711);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return async () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    await rm(root, { recursive: true, force: true });
    await checkNothingLeft(systemTmp, startedAt);
  };
}

/**
 * The check: nothing named gatehouse-* appeared in the system temp directory during the run. In CI
 * (nothing else runs there) that fails the run; locally another checkout's run may be the cause,
 * so it only warns.
 */
async function checkNothingLeft(systemTmp: string, since: number): Promise<void> {
  const left: string[] = [];
  // Each vitest project runs the global setup, so a second root can nest inside the first, which
  // the first teardown has already removed: nothing can be left in a directory that is gone.
  const names = await readdir(systemTmp).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const info = await stat(join(systemTmp, name)).catch(() => undefined);
    if (info && info.birthtimeMs >= since) left.push(join(systemTmp, name));
  }
  if (left.length === 0) return;
  const message = `Tests left temporary files outside the run's temp root:\n${left.join('\n')}`;
  if (process.env.CI) throw new Error(message);
  process.stderr.write(`warning: ${message}\n`);
}
