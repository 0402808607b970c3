import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error';
import { canonicalJson, parseIdempotencyKey } from './idempotency.service';

describe('canonicalJson', () => {
  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ s: 'é"\n' })).toBe(JSON.stringify({ s: 'é"\n' }));
  });

  it('gives up, without a RangeError, on a body deeper than validation accepts', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`);
    expect(canonicalJson(deep)).toBeUndefined();
    expect(canonicalJson(JSON.parse(`${'['.repeat(60)}1${']'.repeat(60)}`))).toBe(`${'['.repeat(60)}1${']'.repeat(60)}`);
  });
});

describe('parseIdempotencyKey', () => {
  it('takes 1 to 255 printable ASCII characters', () => {
    expect(parseIdempotencyKey('a')).toBe('a');
    expect(parseIdempotencyKey(' ~')).toBe(' ~');
    expect(parseIdempotencyKey('x'.repeat(255))).toHaveLength(255);
  });

  it.each([
    ['', 'TOO_SMALL'],
    ['x'.repeat(256), 'TOO_BIG'],
    ['tab\there', 'INVALID_FORMAT'],
    ['ключ', 'INVALID_FORMAT'],
  ])('refuses %j with IDEMPOTENCY_KEY_INVALID naming the header (%s)', (value, code) => {
    let error: unknown;
    try {
      parseIdempotencyKey(value);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('IDEMPOTENCY_KEY_INVALID');
    expect((error as DomainError).options.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key', code })]);
  });
});
