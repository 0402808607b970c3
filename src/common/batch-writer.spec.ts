import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/config';
import { BackgroundTasks } from './background';
import { BatchWriter } from './batch-writer';

/** A writer of numbers whose database fails while `down` is set. */
function setup(options: { flushAtSize?: number } = {}) {
  const background = new BackgroundTasks({ shutdown: { tasksTimeoutMs: 1_000, flushTimeoutMs: 1_000 } } as AppConfig);
  const db = { down: false, written: [] as number[][], writes: 0 };
  const writer = new BatchWriter<number[]>(background, {
    name: 'numbers',
    intervalMs: 60_000,
    ...options,
    empty: () => [],
    size: (batch) => batch.length,
    write: (batch) => {
      db.writes++;
      if (db.down) return Promise.reject(new Error('database unreachable'));
      db.written.push(batch);
      return Promise.resolve();
    },
    restore: (kept, current) => current.unshift(...kept),
    describe: (batch) => `${batch.length} numbers`,
  });
  const add = (n: number) => {
    writer.batch.push(n);
    writer.added();
  };
  return { background, db, writer, add };
}

describe('BatchWriter', () => {
  it('keeps a batch that failed, before what came since, for the next flush', async () => {
    const { db, writer, add } = setup();
    add(1);
    db.down = true;
    await writer.flush();
    add(2);
    db.down = false;
    await writer.flush();
    expect(db.written).toEqual([[1, 2]]);
    await writer.flush();
    expect(db.writes).toBe(2);
  });

  it('flushes at size once, and not again until a flush succeeded (no loop during an outage)', async () => {
    const { background, db, add } = setup({ flushAtSize: 2 });
    db.down = true;
    for (let n = 0; n < 6; n++) add(n);
    await background.drain();
    expect(db.writes).toBe(1);
    db.down = false;
    add(6);
    await background.drain();
    expect(db.writes).toBe(1);
  });

  it('fails the shutdown flush, naming what is lost, when the database is still down', async () => {
    const { background, db, writer, add } = setup();
    writer.start();
    add(1);
    db.down = true;
    await expect(background.shutdown()).rejects.toThrow('Final flushes failed: numbers flush');
  });
});
