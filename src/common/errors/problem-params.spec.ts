import { describe, expect, it } from 'vitest';
import { DomainError } from './domain-error';
import { ERROR_CODES } from './error-catalog';
import { declaredParams, PROBLEM_PARAM_EXAMPLES, PROBLEM_PARAMS } from './problem-params';

describe('typed problem params', () => {
  it('checks each code against its declared params at compile time', () => {
    expect(new DomainError('RATE_LIMITED', { params: { retryAfter: 3 } }).options.params).toEqual({ retryAfter: 3 });
    // @ts-expect-error RATE_LIMITED declares retryAfter, so it cannot be thrown without it.
    expect(() => new DomainError('RATE_LIMITED')).not.toThrow();
    // @ts-expect-error PAYLOAD_TOO_LARGE declares limit, not retryAfter.
    expect(() => new DomainError('PAYLOAD_TOO_LARGE', { params: { retryAfter: 3 } })).not.toThrow();
    // @ts-expect-error NOT_FOUND declares no params.
    expect(() => new DomainError('NOT_FOUND', { params: { limit: 3 } })).not.toThrow();
    const code = ERROR_CODES[0]!;
    // @ts-expect-error A code known only as ErrorCode may be one that declares params.
    expect(() => new DomainError(code)).not.toThrow();
  });

  it('keeps only the members a code declares, and refuses params of the wrong shape', () => {
    expect(declaredParams('SERVICE_UNAVAILABLE', { retryAfter: 5, limit: 9, secret: 'x' })).toEqual({ retryAfter: 5 });
    expect(declaredParams('NOT_FOUND', { retryAfter: 5 })).toEqual({});
    expect(declaredParams('RATE_LIMITED', { limit: 3 })).toBeUndefined();
  });

  it('has examples that match every declaration', () => {
    for (const [code, schema] of Object.entries(PROBLEM_PARAMS)) {
      expect(schema.safeParse(PROBLEM_PARAM_EXAMPLES[code as keyof typeof PROBLEM_PARAMS]).success, code).toBe(true);
    }
  });
});
