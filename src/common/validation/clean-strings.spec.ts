import { describe, expect, it } from 'vitest';
import { findUncleanStrings, MAX_NESTING_DEPTH, storableText } from './clean-strings';

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

describe('findUncleanStrings on deep nesting (5,000 levels gave a RangeError and a 500)', () => {
  const deepArray = (depth: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };
  const deepObject = (depth: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };

  it.each([
    ['arrays', deepArray],
    ['objects', deepObject],
  ])('refuses 5,000 nested %s with one TOO_DEEP issue instead of overflowing the stack', (_, make) => {
    const found = findUncleanStrings(make(5_000));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ code: 'TOO_DEEP', params: { maximum: MAX_NESTING_DEPTH } });
    expect(found[0]!.field.split('.')).toHaveLength(MAX_NESTING_DEPTH);
  });

  it('accepts exactly the maximum depth, and still finds a bad string down there', () => {
    expect(findUncleanStrings(deepObject(MAX_NESTING_DEPTH))).toEqual([]);
    expect(findUncleanStrings(deepObject(MAX_NESTING_DEPTH + 1))[0]?.code).toBe('TOO_DEEP');
    let bad: unknown = 'x\u0000';
    for (let i = 0; i < MAX_NESTING_DEPTH; i++) bad = [bad];
    expect(findUncleanStrings(bad)[0]).toMatchObject({ code: 'INVALID_CHARACTERS', field: Array(MAX_NESTING_DEPTH).fill('0').join('.') });
  });
});

describe('storableText', () => {
  it('replaces NUL bytes and lone surrogates with U+FFFD and leaves other text as it is', () => {
    expect(storableText('ok\u0000and\u0000more')).toBe('ok\uFFFDand\uFFFDmore');
    expect(storableText('cut 😀'.slice(0, 5))).toBe('cut \uFFFD');
    expect(storableText('plain, ünïcode 😀')).toBe('plain, ünïcode 😀');
  });
});
