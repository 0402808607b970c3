import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

describe('issue 22: the SDK is usable right after `npm install` in this repository', () => {
  it('npm install builds it (the workspace prepare script), so @gatehouse/sdk resolves to a built package', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages/sdk/package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts.prepare).toContain('npm run build');
    // Built by that script during the `npm ci` that precedes this suite (CI runs it on a fresh clone).
    for (const file of ['dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.js', 'dist/esm/index.d.ts']) {
      expect(existsSync(join(ROOT, 'packages/sdk', file)), `packages/sdk/${file}: run npm install`).toBe(true);
    }
    const sdk = createRequire(join(ROOT, 'package.json'))('@gatehouse/sdk') as Record<string, unknown>;
    expect(typeof sdk.GatehouseClient).toBe('function');
    expect(typeof sdk.verifyWebhook).toBe('function');
  });
});
