import { describe, expect, it } from 'vitest';
import { languageFromHeader } from './language';

describe('languageFromHeader', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['tr', 'tr'],
    ['tr-TR,tr;q=0.9,en;q=0.8', 'tr'],
    ['ar-SA', 'ar'],
    ['de-DE, ar;q=0.3', 'ar'],
    ['de', 'en'],
    ['en-US,en;q=0.9,tr;q=0.8', 'en'],
    ['*', 'en'],
  ])('%s -> %s', (header, expected) => {
    expect(languageFromHeader(header)).toBe(expected);
    // The second answer comes from the table of headers already negotiated, and is the same.
    expect(languageFromHeader(header)).toBe(expected);
  });

  it('keeps answering right once more distinct headers arrived than its table holds', () => {
    for (let i = 0; i < 2_500; i++) expect(languageFromHeader(`x-${i},tr;q=0.5`)).toBe('tr');
    expect(languageFromHeader('ar, en;q=0.1')).toBe('ar');
  });
});
