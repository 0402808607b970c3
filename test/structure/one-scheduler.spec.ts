import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '../../src');
/** BackgroundTasks.every: the one place a repeating timer is made. */
const SCHEDULER = 'common/background.ts';
/** A call, a reference passed on (`const tick = setInterval`), or the promise API from node:timers/promises. */
const INTERVAL = /\bsetInterval\b/;

const sources = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.split('\\').join('/'));

/** Issue 23 (done-means 3): one scheduler, so every job stops at shutdown and its run under way is awaited the same way. */
describe('one scheduler', () => {
  it('no setInterval in src outside BackgroundTasks.every (spec files included)', () => {
    expect(sources.length).toBeGreaterThan(100);
    expect(INTERVAL.test(readFileSync(join(SRC, SCHEDULER), 'utf8'))).toBe(true);
    const offenders = sources.filter((file) => file !== SCHEDULER && INTERVAL.test(readFileSync(join(SRC, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
