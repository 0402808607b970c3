import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('tests leave no temp directories behind (some held a JWT secret)', () => {
  it("every test file's temp directory is inside the run's own temp root, which teardown removes", () => {
    expect(basename(tmpdir())).toMatch(/^gatehouse-test-run-/);
    // One root per run, not one per vitest project nested in each other (Chromium's socket path broke on that).
    expect(basename(dirname(tmpdir()))).not.toMatch(/^gatehouse-test-run-/);
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-env-'));
    writeFileSync(join(dir, 'jwt-secret'), 'not a real secret');
    expect(dirname(dir)).toBe(tmpdir());
  });
});
