import { describe, expect, it } from 'vitest';
import { findUncleanStrings } from './clean-strings';

describe('findUncleanStrings', () => {
  it('accepts ordinary text, emoji and non-Latin scripts', () => {
    expect(findUncleanStrings({ a: 'hello', b: ['Ğüşİ', 'مرحبا', '👍'], c: { d: 1, e: null, f: true } })).toEqual([]);
  });

  it('names each field holding a NUL byte or a lone surrogate', () => {
    const found = findUncleanStrings({ a: 'x\u0000', b: ['ok', '\ud800'], c: { d: '\udfff tail' } });
    expect(found.map((issue) => issue.field)).toEqual(['a', 'b.1', 'c.d']);
    expect(new Set(found.map((issue) => issue.code))).toEqual(new Set(['INVALID_CHARACTERS']));
  });

  it('checks object keys as well as values', () => {
    expect(findUncleanStrings({ 'bad\u0000key': 'fine' })).toHaveLength(1);
  });

  it('prefixes a path for query and path parameters', () => {
    expect(findUncleanStrings('a\u0000', ['id'])[0]?.field).toBe('id');
  });
});
