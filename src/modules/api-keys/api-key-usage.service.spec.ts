import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS } from './api-key-usage.recorder';
import { percentile } from './api-key-usage.service';

describe('percentile', () => {
  const histogram = (entries: Record<number, number>) => {
    const counts = Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
    for (const [index, count] of Object.entries(entries)) counts[Number(index)] = count;
    return counts;
  };

  it('is null without requests', () => {
    expect(percentile(histogram({}), 0.95)).toBeNull();
  });

  it('reads the bucket bound holding the 95th percentile', () => {
    // 94 fast requests (<= 5 ms), 6 slow ones (<= 200 ms): the 95th is slow.
    expect(percentile(histogram({ 2: 94, 7: 6 }), 0.95)).toBe(200);
    expect(percentile(histogram({ 2: 95, 7: 5 }), 0.95)).toBe(5);
  });

  it('reports the last bound for the overflow slot', () => {
    expect(percentile(histogram({ [LATENCY_BUCKETS_MS.length]: 1 }), 0.95)).toBe(10_000);
  });
});
