import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyGate', () => {
  it('runs at most `concurrency` at once, in arrival order, and admits no more than `capacity`', async () => {
    const gate = new ConcurrencyGate(2, 4);
    const started: number[] = [];
    const finish: Array<() => void> = [];
    const places = [0, 1, 2, 3].map(() => gate.admit()!);
    expect(gate.admit()).toBeUndefined();
    const runs = places.map((place, i) =>
      place.run(
        () =>
          new Promise<number>((resolve) => {
            started.push(i);
            finish[i] = () => resolve(i);
          }),
      ),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    finish[1]!();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    // A finished run leaves: one more may come in.
    expect(gate.admit()).toBeDefined();
    expect(gate.admit()).toBeUndefined();
    finish[0]!();
    finish[2]!();
    await tick();
    finish[3]!();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
  });

  it('a place released without running, or whose work fails, is given back once', async () => {
    const gate = new ConcurrencyGate(1, 1);
    const place = gate.admit()!;
    place.release();
    place.release();
    const next = gate.admit()!;
    expect(gate.admit()).toBeUndefined();
    await expect(next.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const after = gate.admit()!;
    expect(await after.run(() => Promise.resolve('ran'))).toBe('ran');
  });
});
