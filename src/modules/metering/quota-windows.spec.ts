import { describe, expect, it } from 'vitest';
import { limitFor, quotaWindow } from './quota-windows';

const at = (text: string) => new Date(text);
const window = (...args: Parameters<typeof quotaWindow>) => {
  const { start, end } = quotaWindow(...args);
  return { start: start.toISOString(), end: end?.toISOString() ?? null };
};

describe('quota windows', () => {
  it('DAILY: the UTC day, whatever the period start', () => {
    expect(window('DAILY', at('2026-03-10T15:00:00Z'), null, at('2026-03-12T23:59:59.999Z'))).toEqual({
      start: '2026-03-12T00:00:00.000Z',
      end: '2026-03-13T00:00:00.000Z',
    });
  });

  it('MONTHLY from Jan 31: Feb ends on its last day, and March starts on the 31st again (counted from the anchor, never drifting)', () => {
    const start = at('2026-01-31T10:00:00Z');
    expect(window('MONTHLY', start, null, at('2026-02-15T00:00:00Z'))).toEqual({ start: '2026-01-31T10:00:00.000Z', end: '2026-02-28T10:00:00.000Z' });
    expect(window('MONTHLY', start, null, at('2026-02-28T09:59:59Z'))).toEqual({ start: '2026-01-31T10:00:00.000Z', end: '2026-02-28T10:00:00.000Z' });
    expect(window('MONTHLY', start, null, at('2026-02-28T10:00:00Z'))).toEqual({ start: '2026-02-28T10:00:00.000Z', end: '2026-03-31T10:00:00.000Z' });
    expect(window('MONTHLY', start, null, at('2026-04-30T10:00:00Z'))).toEqual({ start: '2026-04-30T10:00:00.000Z', end: '2026-05-31T10:00:00.000Z' });
    expect(window('MONTHLY', start, null, at('2027-01-31T09:00:00Z'))).toEqual({ start: '2026-12-31T10:00:00.000Z', end: '2027-01-31T10:00:00.000Z' });
  });

  it('YEARLY from Feb 29: Feb 28 in common years, Feb 29 again in leap years', () => {
    const start = at('2028-02-29T00:00:00Z');
    expect(window('YEARLY', start, null, at('2028-12-31T00:00:00Z'))).toEqual({ start: '2028-02-29T00:00:00.000Z', end: '2029-02-28T00:00:00.000Z' });
    expect(window('YEARLY', start, null, at('2029-03-01T00:00:00Z'))).toEqual({ start: '2029-02-28T00:00:00.000Z', end: '2030-02-28T00:00:00.000Z' });
    expect(window('YEARLY', start, null, at('2032-02-29T00:00:00Z'))).toEqual({ start: '2032-02-29T00:00:00.000Z', end: '2033-02-28T00:00:00.000Z' });
  });

  it('NONE: one allowance for the whole term, open-ended without a term end', () => {
    expect(window('NONE', at('2026-01-01T00:00:00Z'), at('2026-04-01T00:00:00Z'), at('2026-03-31T00:00:00Z'))).toEqual({
      start: '2026-01-01T00:00:00.000Z',
      end: '2026-04-01T00:00:00.000Z',
    });
    expect(window('NONE', at('2026-01-01T00:00:00Z'), null, at('2030-01-01T00:00:00Z'))).toEqual({ start: '2026-01-01T00:00:00.000Z', end: null });
  });

  it('no window ends after the term: a 45-day term clamps its second MONTHLY window, a 6-month one its YEARLY window, its last day its DAILY one', () => {
    const start = at('2026-01-10T12:00:00Z');
    const end = at('2026-02-24T12:00:00Z');
    expect(window('MONTHLY', start, end, at('2026-01-20T00:00:00Z'))).toEqual({ start: '2026-01-10T12:00:00.000Z', end: '2026-02-10T12:00:00.000Z' });
    expect(window('MONTHLY', start, end, at('2026-02-20T00:00:00Z'))).toEqual({ start: '2026-02-10T12:00:00.000Z', end: '2026-02-24T12:00:00.000Z' });
    expect(window('YEARLY', start, at('2026-07-10T12:00:00Z'), at('2026-03-01T00:00:00Z'))).toEqual({
      start: '2026-01-10T12:00:00.000Z',
      end: '2026-07-10T12:00:00.000Z',
    });
    expect(window('DAILY', start, end, at('2026-02-24T08:00:00Z'))).toEqual({ start: '2026-02-24T00:00:00.000Z', end: '2026-02-24T12:00:00.000Z' });
    expect(window('DAILY', start, end, at('2026-02-23T08:00:00Z'))).toEqual({ start: '2026-02-23T00:00:00.000Z', end: '2026-02-24T00:00:00.000Z' });
  });

  it('a clock behind the period start stays in the first window', () => {
    expect(window('MONTHLY', at('2026-05-10T00:00:00Z'), null, at('2026-05-09T23:00:00Z'))).toEqual({
      start: '2026-05-10T00:00:00.000Z',
      end: '2026-06-10T00:00:00.000Z',
    });
  });

  it("matches the endpoint's own limit first, then the version's *, never another version's", () => {
    const limits = [
      { apiVersion: 'v1', endpoint: '*', maxCalls: 10 },
      { apiVersion: 'v1', endpoint: 'orders.create', maxCalls: 2 },
      { apiVersion: 'v2', endpoint: 'orders.list', maxCalls: 7 },
    ];
    expect(limitFor(limits, 'v1', 'orders.create')?.maxCalls).toBe(2);
    expect(limitFor(limits, 'v1', 'orders.list')?.maxCalls).toBe(10);
    expect(limitFor(limits, 'v2', 'orders.list')?.maxCalls).toBe(7);
    expect(limitFor(limits, 'v2', 'orders.create')).toBeUndefined();
    expect(limitFor(limits, 'v3', 'orders.create')).toBeUndefined();
  });
});
