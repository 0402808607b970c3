import { afterEach, describe, expect, it, vi } from 'vitest';
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

/** Issue 23 (done-means 3): every repeating job goes through BackgroundTasks.every. */
describe('BackgroundTasks.every', () => {
  const tasks = () => new BackgroundTasks(testConfig(DEADLINES));
  afterEach(() => vi.useRealTimers());

  it('runs a job at start and then each interval; a run that fails is logged and the next one still comes', async () => {
    vi.useFakeTimers();
    const background = tasks();
    let runs = 0;
    background.every('failing once', 1_000, () => (++runs === 2 ? Promise.reject(new Error('database gone')) : Promise.resolve()));
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(3_001);
    expect(runs).toBe(5);
    await background.shutdown();
  });

  it('with atStart: false, first runs one interval after it is scheduled', async () => {
    vi.useFakeTimers();
    const background = tasks();
    let runs = 0;
    background.every('flush', 2_000, () => Promise.resolve(void runs++), { atStart: false });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await background.shutdown();
  });

  it('stops at shutdown: the run under way is awaited, and no run starts after', async () => {
    vi.useFakeTimers();
    const background = tasks();
    const log: string[] = [];
    background.every(
      'slow job',
      1_000,
      async () => {
        log.push('started');
        await sleep(100);
        log.push('finished');
      },
      { atStart: false },
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log).toEqual(['started']);
    let stopped = false;
    const stopping = background.shutdown().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    await stopping;
    expect(log).toEqual(['started', 'finished']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log).toEqual(['started', 'finished']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drain alone (a test waiting for background work) leaves the jobs running', async () => {
    vi.useFakeTimers();
    const background = tasks();
    let runs = 0;
    background.every('mail poll', 50, () => Promise.resolve(void runs++), { atStart: false });
    await background.drain();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    await background.shutdown();
  });

  it('never keeps the process alive: its timer is unref’d', async () => {
    const background = tasks();
    const refTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = refTimers();
    background.every('hourly purge', 3_600_000, () => Promise.resolve(), { atStart: false });
    expect(refTimers()).toBe(before);
    await background.shutdown();
  });
});
