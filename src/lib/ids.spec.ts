import { describe, expect, it } from 'vitest';
import { idSchema, isId, newId } from './ids';

describe('ids', () => {
  it('are prefixed TypeIDs', () => {
    expect(newId('usr')).toMatch(/^usr_[0-7][0-9a-hjkmnp-tv-z]{25}$/);
  });

  it('sort by creation time', async () => {
    const first = newId('usr');
    await new Promise((resolve) => setTimeout(resolve, 2));
    const second = newId('usr');
    expect([second, first].sort()).toEqual([first, second]);
  });

  it('are checked for their prefix', () => {
    const id = newId('acc');
    expect(isId(id, 'acc')).toBe(true);
    expect(isId(id, 'usr')).toBe(false);
    expect(isId('acc_123', 'acc')).toBe(false);
    expect(idSchema('acc').safeParse(id).success).toBe(true);
    expect(idSchema('usr').safeParse(id).success).toBe(false);
  });
});
