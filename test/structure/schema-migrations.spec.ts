import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import config from '../../drizzle.config';

const ROOT = join(__dirname, '../..');
const DRIZZLE_KIT = join(ROOT, 'node_modules/drizzle-kit/bin.cjs');
const run = promisify(execFile);

/** Every file under `dir`, by its path inside it, with its content. */
async function contents(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  const entries = await Promise.all(
    files.map(async (file) => [relative(dir, join(file.parentPath, file.name)), await readFile(join(file.parentPath, file.name), 'utf8')]),
  );
  return Object.fromEntries(entries.sort(([a], [b]) => a!.localeCompare(b!)));
}

/**
 * Issue 23 (build 7): a schema file changed without its migration fails npm test. drizzle-kit's
 * own `check` looks only at the migrations' consistency with each other; `generate` diffs the
 * schema against the last snapshot, so it runs here on a copy of drizzle/ and must find nothing to
 * write. Offline: generate reads files, never a database.
 */
describe('the drizzle schema and the migrations', () => {
  it('match: `drizzle-kit generate` on a copy of drizzle/ finds no change to migrate', async () => {
    const work = await mkdtemp(join(tmpdir(), 'gatehouse-drizzle-'));
    try {
      const out = join(work, 'drizzle');
      await cp(join(ROOT, config.out!), out, { recursive: true });
      const before = await contents(out);
      expect(Object.keys(before).length).toBeGreaterThan(2);
      const args = [DRIZZLE_KIT, 'generate', '--dialect', config.dialect, '--schema', String(config.schema), '--casing', config.casing!];
      // drizzle-kit reads --out relative to the working directory, whatever its form.
      args.push('--out', relative(ROOT, out));
      // A rename makes drizzle-kit ask which was meant; with no terminal it refuses ("Interactive
      // prompts require a TTY"), and a hang would meet the timeout: either way, no match.
      const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }).catch(
        (error: { stdout?: string; stderr?: string; message: string }) => ({ stdout: error.stdout ?? '', stderr: `${error.message}\n${error.stderr ?? ''}` }),
      );
      // drizzle-kit exits 0 even when it failed, so its own words are what says it found nothing.
      // Without its stack frames: vitest would look for a source map of drizzle-kit's bundle.
      const said = `${stdout}\n${stderr}`.replace(/^\s*at .*$/gm, '').trim();
      expect(stdout, `${said}\n\nThe schema differs from drizzle/: run npm run db:generate and commit the reviewed migration`).toContain(
        'No schema changes, nothing to migrate',
      );
      expect(await contents(out)).toEqual(before);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
