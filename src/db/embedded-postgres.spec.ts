import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unreachableAncestor } from './embedded-postgres';

describe('unreachableAncestor', () => {
  it('finds a parent directory the postgres user could not enter when running as root', () => {
    const closed = mkdtempSync(join(tmpdir(), 'gatehouse-closed-'));
    chmodSync(closed, 0o700);
    expect(unreachableAncestor(join(closed, 'data', 'pg'), 0)).toBe(closed);
  });

  it('accepts a path whose parents are traversable', () => {
    const open = mkdtempSync(join(tmpdir(), 'gatehouse-open-'));
    chmodSync(open, 0o755);
    expect(unreachableAncestor(join(open, 'pg'), 0)).toBeUndefined();
  });

  it('does not apply when not running as root', () => {
    const closed = mkdtempSync(join(tmpdir(), 'gatehouse-closed-'));
    chmodSync(closed, 0o700);
    expect(unreachableAncestor(join(closed, 'pg'), 1000)).toBeUndefined();
  });
});
