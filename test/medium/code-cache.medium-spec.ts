import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
// Inside the repository, as dist/ is.
const SCRATCH = join(ROOT, '.data');

describe('codeCacheDir: compiled code is kept only where no one else can write', () => {
  let dir: string;
  beforeEach(() => {
    mkdirSync(SCRATCH, { recursive: true });
    dir = mkdtempSync(join(SCRATCH, 'code-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** What src/code-cache.ts decides in a process with `env`, and on Node >= 22.1 where Node's own cache went. */
  const decide = (env: Record<string, string>) => {
    const program = `
      const { codeCacheDir, enableNodeCompileCache } = require('./src/code-cache');
      const chosen = codeCacheDir(${JSON.stringify(dir)});
      enableNodeCompileCache(chosen);
      console.log(JSON.stringify({ chosen: chosen ?? null, node: require('node:module').getCompileCacheDir?.() ?? null }));`;
    const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', program], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    return JSON.parse(output.trim().split('\n').pop()!) as { chosen: string | null; node: string | null };
  };
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeHasCompileCache = major > 22 || (major === 22 && minor >= 1);

  it("defaults to the app's own .data/code-cache, created for this user alone, never the shared temp directory", () => {
    const { chosen, node } = decide({});
    expect(chosen).toBe(join(dir, '.data', 'code-cache'));
    expect(statSync(chosen!).mode & 0o777).toBe(0o700);
    // Node's module compile cache (Node >= 22.1) goes to the same directory; Node 20 has none.
    if (nodeHasCompileCache) expect(node).toContain(chosen);
    else expect(node).toBeNull();
  });

  it('refuses a directory others can write, or a link, and then caches nothing', () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(decide({ NODE_COMPILE_CACHE: open }).chosen).toBeNull();

    const target = join(dir, 'target');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, join(dir, 'link'));
    expect(decide({ NODE_COMPILE_CACHE: join(dir, 'link') }).chosen).toBeNull();

    expect(decide({ NODE_COMPILE_CACHE: target }).chosen).toBe(target);
    expect(decide({ NODE_COMPILE_CACHE: target, NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual({ chosen: null, node: null });
  });
});
