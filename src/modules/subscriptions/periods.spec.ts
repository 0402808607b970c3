import { describe, expect, it } from 'vitest';
import { addMonths } from '../../lib/calendar';
import { periodEnd } from './periods';

const at = (text: string) => new Date(text);

describe('subscription periods', () => {
  it('adds calendar months in UTC, clamping to the end of a shorter month', () => {
    expect(addMonths(at('2026-01-31T10:00:00Z'), 1).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addMonths(at('2028-01-31T10:00:00Z'), 1).toISOString()).toBe('2028-02-29T10:00:00.000Z');
    expect(addMonths(at('2026-03-31T00:00:00Z'), 1).toISOString()).toBe('2026-04-30T00:00:00.000Z');
    expect(addMonths(at('2026-12-15T23:59:59Z'), 1).toISOString()).toBe('2027-01-15T23:59:59.000Z');
    expect(addMonths(at('2028-02-29T12:00:00Z'), 12).toISOString()).toBe('2029-02-28T12:00:00.000Z');
  });

  it('ends a period after its duration in days, months or years', () => {
    const start = at('2026-01-31T08:30:00Z');
    expect(periodEnd(start, { unit: 'DAY', count: 90 }).toISOString()).toBe('2026-05-01T08:30:00.000Z');
    expect(periodEnd(start, { unit: 'MONTH', count: 1 }).toISOString()).toBe('2026-02-28T08:30:00.000Z');
    expect(periodEnd(start, { unit: 'YEAR', count: 1 }).toISOString()).toBe('2027-01-31T08:30:00.000Z');
  });
});
