import { describe, expect, it } from 'vitest';
import { testConfig } from '../../test/helpers/test-app';
import { BackgroundTasks } from './background';

const DEADLINES = { SHUTDOWN_TASKS_TIMEOUT_MS: '200', SHUTDOWN_FLUSH_TIMEOUT_MS: '300' };
const never = () => new Promise<void>(() => undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Issue 20 (measured 4): shutdown gives each of its steps a deadline; the flushes run whatever hangs. */
describe('BackgroundTasks.drain', () => {
  const tasks = () => new BackgroundTasks(testConfig(DEADLINES));

  it('abandons a task that never ends after SHUTDOWN_TASKS_TIMEOUT_MS, and then runs every flush', async () => {
    const background = tasks();
    const flushed: string[] = [];
    background.run('stuck mail', never);
    background.addInFlight('stuck attempts', never);
    background.addFinalizer('usage flush', () => Promise.resolve(void flushed.push('usage')));
    background.addFinalizer('validation flush', () => Promise.resolve(void flushed.push('validations')));

    const started = Date.now();
    await background.drain();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(flushed.sort()).toEqual(['usage', 'validations']);
  });

  it('waits for tasks that end in time, and for the tasks they start, before flushing', async () => {
    const background = tasks();
    const order: string[] = [];
    background.run('first', async () => {
      await sleep(30);
      order.push('first');
      background.run('second', async () => {
        await sleep(30);
        order.push('second');
      });
    });
    background.addFinalizer('flush', () => Promise.resolve(void order.push('flush')));
    await background.drain();
    expect(order).toEqual(['first', 'second', 'flush']);
  });

  it('runs the flushes at once: one that hangs does not delay the others; the drain then rejects, naming it', async () => {
    const background = tasks();
    let written = false;
    background.addFinalizer('hanging flush', never);
    background.addFinalizer('failing flush', () => Promise.reject(new Error('database gone')));
    background.addFinalizer('good flush', async () => {
      await sleep(100);
      written = true;
    });
    const started = Date.now();
    await expect(background.drain()).rejects.toThrow('Final flushes failed: failing flush, hanging flush');
    expect(written).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
