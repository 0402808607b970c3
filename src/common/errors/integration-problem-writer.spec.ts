import { describe, expect, it } from 'vitest';
import type { ErrorCode } from './error-catalog';
import { integrationMapping, toIntegrationProblem } from './integration-problem-writer';
import type { ProblemDetails } from './problem.schemas';

const problem = (code: ErrorCode, status: number, extra: Partial<ProblemDetails> = {}): ProblemDetails => ({
  type: `http://api.test/problems/${code.toLowerCase()}`,
  title: 'Ours',
  status,
  detail: 'What happened.',
  instance: '/auth/login',
  code,
  requestId: 'req-1',
  ...extra,
});

describe('integration problem writer (issue 8: the published integration surface)', () => {
  it.each([
    ['VALIDATION_FAILED', 422, 'validation', 400, 400],
    ['MALFORMED_JSON', 400, 'validation', 400, 400],
    ['USER_EXISTS', 400, 'business', 400, 400],
    ['CONFLICT', 409, 'business', 400, 400],
    ['TOO_MANY_ACTIVATIONS', 422, 'business', 400, 400],
    ['INVALID_CREDENTIALS', 401, 'authorization', 401, 401],
    ['ACCOUNT_SUSPENDED', 403, 'authentication', 401, 403],
    ['INSUFFICIENT_SCOPE', 403, 'authentication', 401, 403],
    ['NOT_FOUND', 404, 'business', 404, 404],
    ['METHOD_NOT_ALLOWED', 405, 'business', 405, 405],
    ['PAYLOAD_TOO_LARGE', 413, 'business', 413, 413],
    ['UNSUPPORTED_MEDIA_TYPE', 415, 'business', 415, 415],
    ['RATE_LIMITED', 429, 'business', 429, 429],
    ['INTERNAL', 500, 'internal', 500, 500],
    ['UPSTREAM_FAILED', 502, 'internal', 502, 502],
    ['SERVICE_UNAVAILABLE', 503, 'internal', 503, 503],
  ])('maps %s (%i) to /probs/%s, HTTP %i, body status %i', (code, status, slug, httpStatus, bodyStatus) => {
    expect(integrationMapping(code, status)).toEqual({ slug, httpStatus, status: bodyStatus });
  });

  it('groups field messages per property, keeps our code and detail, and adds Errors only to validation problems', () => {
    const errors = [
      { field: 'email', code: 'INVALID_FORMAT', message: 'Invalid format' },
      { field: 'password', code: 'REQUIRED', message: 'Required' },
      { field: 'email', code: 'TOO_BIG', message: 'Must be at most 254' },
    ];
    const { httpStatus, body } = toIntegrationProblem(problem('VALIDATION_FAILED', 422, { errors }), 'http://api.test');
    expect(httpStatus).toBe(400);
    expect(body).toEqual({
      type: 'http://api.test/probs/validation',
      title: 'Validation error(s)',
      status: 400,
      detail: 'What happened.',
      instance: '/auth/login',
      code: 'VALIDATION_FAILED',
      requestId: 'req-1',
      Errors: [
        { Property: 'email', Errors: ['Invalid format', 'Must be at most 254'] },
        { Property: 'password', Errors: ['Required'] },
      ],
    });
    const business = toIntegrationProblem(problem('CONFLICT', 409), 'http://api.test').body;
    expect(business).toMatchObject({ type: 'http://api.test/probs/business', title: 'Rule violation', status: 400, code: 'CONFLICT' });
    expect(business).not.toHaveProperty('Errors');
    expect(business).not.toHaveProperty('errors');
  });
});
