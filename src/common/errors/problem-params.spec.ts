import { describe, expect, expectTypeOf, it } from 'vitest';
import { DomainError, DomainErrorOptions } from './domain-error';
import type { ErrorCode } from './error-catalog';
import { declaredParams, PROBLEM_PARAM_EXAMPLES, PROBLEM_PARAMS, ProblemParams } from './problem-params';

/** What `new DomainError(code, ...)` accepts for a code. */
type Arguments<C extends ErrorCode> = ConstructorParameters<typeof DomainError<C>>;

describe('typed problem params', () => {
  // Type-level: `npm run typecheck` (the first step of npm test) fails when one of these no longer holds.
  it('checks each code against its declared params at compile time', () => {
    expectTypeOf<ProblemParams<'RATE_LIMITED'>>().toEqualTypeOf<{ retryAfter: number; limit?: number }>();
    expectTypeOf<ProblemParams<'PAYLOAD_TOO_LARGE'>>().toEqualTypeOf<{ limit: number }>();
    // RATE_LIMITED declares retryAfter, so it cannot be thrown without it.
    expectTypeOf<['RATE_LIMITED']>().not.toExtend<Arguments<'RATE_LIMITED'>>();
    expectTypeOf<['RATE_LIMITED', { cause: Error }]>().not.toExtend<Arguments<'RATE_LIMITED'>>();
    expectTypeOf<['RATE_LIMITED', { params: { retryAfter: number } }]>().toExtend<Arguments<'RATE_LIMITED'>>();
    // PAYLOAD_TOO_LARGE declares limit, not retryAfter.
    expectTypeOf<{ params: { retryAfter: number } }>().not.toExtend<DomainErrorOptions<'PAYLOAD_TOO_LARGE'>>();
    // NOT_FOUND declares no params, and needs no options.
    expectTypeOf<{ params: { limit: number } }>().not.toExtend<DomainErrorOptions<'NOT_FOUND'>>();
    expectTypeOf<['NOT_FOUND']>().toExtend<Arguments<'NOT_FOUND'>>();
    // A code known only as ErrorCode may be one that declares params.
    expectTypeOf<[ErrorCode]>().not.toExtend<Arguments<ErrorCode>>();
    expect(new DomainError('RATE_LIMITED', { params: { retryAfter: 3 } }).options.params).toEqual({ retryAfter: 3 });
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
