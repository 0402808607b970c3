import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { startEmbeddedPostgres, unreachableAncestor } from './embedded-postgres';

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

describe('restarting the embedded Postgres on an existing data directory', () => {
  it('logs no error at shutdown (a leaked client used to log two level-50 errors on every restart)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-pg-'));
    chmodSync(dir, 0o711);
    const logger = new Logger('EmbeddedPostgres');
    const error = vi.spyOn(logger, 'error');
    try {
      for (let run = 0; run < 2; run++) {
        const postgres = await startEmbeddedPostgres({ dir: join(dir, 'pg'), port: 0, database: 'gatehouse_test', logger });
        await postgres.stop();
      }
      expect(error).not.toHaveBeenCalled();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
