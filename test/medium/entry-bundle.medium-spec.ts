import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

/**
 * src/main.ts as dist/main.js runs it, in a folder laid out like dist/: the compiled server
 * (server.js) and the one-file bundle beside it, each saying which it is when run.
 */
describe('the entry runs the one-file server only when it is current', () => {
  let dir: string;
  beforeEach(() => {
    mkdirSync(join(ROOT, '.data'), { recursive: true });
    dir = mkdtempSync(join(ROOT, '.data', 'entry-'));
    copyFileSync(join(ROOT, 'src/main.ts'), join(dir, 'main.ts'));
    copyFileSync(join(ROOT, 'src/code-cache.ts'), join(dir, 'code-cache.ts'));
    mkdirSync(join(dir, 'config'));
    copyFileSync(join(ROOT, 'src/config/boot-env.ts'), join(dir, 'config/boot-env.ts'));
    writeFileSync(join(dir, 'server.js'), "exports.run = (bundle) => console.log(JSON.stringify({ ran: 'modules', bundle }));\n");
    writeFileSync(join(dir, 'server.bundle.js'), "exports.run = (bundle) => console.log(JSON.stringify({ ran: 'bundle', bundle }));\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const start = () =>
    JSON.parse(
      execFileSync(process.execPath, ['-r', '@swc-node/register', join(dir, 'main.ts')], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, NODE_DISABLE_COMPILE_CACHE: '1' },
        encoding: 'utf8',
      }).trim(),
    ) as { ran: string; bundle?: { file: string } };

  const age = (file: string, seconds: number) => {
    const at = new Date(Date.now() - seconds * 1000);
    utimesSync(join(dir, file), at, at);
  };

  it('a bundle built with (or after) the compiled server is what runs, and the server is told its file', () => {
    age('server.js', 60);
    age('server.bundle.js', 30);
    expect(start()).toEqual({ ran: 'bundle', bundle: { file: join(dir, 'server.bundle.js') } });
  });

  it('a bundle older than the compiled server (left by an earlier build) is ignored', () => {
    age('server.bundle.js', 60);
    age('server.js', 30);
    expect(start()).toEqual({ ran: 'modules' });
  });

  it("sets V8's heap heuristics (pretenuring off, heap growth 20%) before the server's code is loaded (bench/README.md, session 10)", () => {
    // Records the flags the entry sets; the server then reports what had been set when it was loaded.
    writeFileSync(
      join(dir, 'record-flags.js'),
      "const v8 = require('node:v8'); const set = v8.setFlagsFromString; globalThis.flagsSet = []; v8.setFlagsFromString = (flag) => { globalThis.flagsSet.push(flag); set(flag); };\n",
    );
    writeFileSync(join(dir, 'server.js'), 'exports.run = () => console.log(JSON.stringify({ flagsWhenLoaded: globalThis.flagsSet }));\n');
    rmSync(join(dir, 'server.bundle.js'));
    const flagsWhenLoaded = (...nodeArgs: string[]) =>
      JSON.parse(
        execFileSync(process.execPath, [...nodeArgs, '-r', join(dir, 'record-flags.js'), '-r', '@swc-node/register', join(dir, 'main.ts')], {
          cwd: ROOT,
          env: { PATH: process.env.PATH, NODE_DISABLE_COMPILE_CACHE: '1' },
          encoding: 'utf8',
        }).trim(),
      ) as unknown;
    expect(flagsWhenLoaded()).toEqual({ flagsWhenLoaded: ['--no-allocation-site-pretenuring', '--heap-growing-percent=20'] });
    // An operator's own choice on node's command line wins.
    expect(flagsWhenLoaded('--allocation-site-pretenuring', '--heap-growing-percent=50')).toEqual({ flagsWhenLoaded: [] });
    // A V8 that dropped a flag would ignore it without a word: this Node's V8 still has both.
    expect(execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' })).toMatch(/--allocation-site-pretenuring[\s\S]*--heap-growing-percent/);
  });

  it('no bundle: the compiled modules', () => {
    rmSync(join(dir, 'server.bundle.js'));
    expect(start()).toEqual({ ran: 'modules' });
  });
});
