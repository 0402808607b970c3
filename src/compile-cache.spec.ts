import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const hasCompileCache = major > 22 || (major === 22 && minor >= 1);

describe('compile-cache', () => {
  it(`on Node ${process.versions.node}: ${hasCompileCache ? 'turns the module compile cache on' : 'loads and changes nothing (no compile cache before 22.1)'}`, () => {
    const script = `require(${JSON.stringify(join(__dirname, 'compile-cache.ts'))}); process.stdout.write(String(require('node:module').getCompileCacheDir?.()))`;
    const dir = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: join(__dirname, '..') }).toString();
    expect(dir === 'undefined' ? 'off' : 'on').toBe(hasCompileCache ? 'on' : 'off');
  });
});
