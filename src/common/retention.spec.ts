import { describe, expect, it } from 'vitest';
import { testConfig } from '../../test/helpers/test-app';
import { BackgroundTasks, Retention } from './background';
import { Clock } from './clock';

class FixedClock extends Clock {
  override nowMs(): number {
    return Date.parse('2026-12-07T12:00:00.000Z');
  }
}

describe('Retention', () => {
  const retention = () => new Retention(new BackgroundTasks(testConfig()), new FixedClock());

  it("runs every policy with the Clock's time; one that fails does not stop the others", async () => {
    const registry = retention();
    const seen: string[] = [];
    registry.register({ name: 'first rows', purge: () => Promise.reject(new Error('table locked')) });
    registry.register({ name: 'second rows', purge: (now) => Promise.resolve(seen.push(now.toISOString())) });
    await registry.runAll();
    expect(seen).toEqual(['2026-12-07T12:00:00.000Z']);
    await expect(registry.run('first rows')).rejects.toThrow('table locked');
    expect(await registry.run('second rows')).toBe(2);
  });

  it('refuses a policy name registered twice, and a name nobody registered', async () => {
    const registry = retention();
    registry.register({ name: 'rows', purge: () => Promise.resolve(0) });
    expect(() => registry.register({ name: 'rows', purge: () => Promise.resolve(0) })).toThrow('registered twice');
    await expect(registry.run('other rows')).rejects.toThrow('No retention policy named other rows');
  });
});
