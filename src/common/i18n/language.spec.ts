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
  });
});
