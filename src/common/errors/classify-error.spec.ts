import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { classifyError } from './classify-error';
import { DomainError } from './domain-error';

const classify = (error: unknown) => classifyError(error, { bodyLimitBytes: 2048 });
const pgError = (code: string, message = 'driver text') => Object.assign(new Error(message), { code });
/** drizzle 0.45 wraps the driver's error as `cause`. */
const wrapped = (cause: Error) => new Error('Failed query: select ...', { cause });

describe('classifyError', () => {
  it('passes domain errors through', () => {
    const error = new DomainError('FORBIDDEN');
    expect(classify(error)).toBe(error);
  });

  it.each([
    ['23505', 'CONFLICT'],
    ['22021', 'VALIDATION_FAILED'],
    ['22P05', 'VALIDATION_FAILED'],
    ['22001', 'VALIDATION_FAILED'],
    ['57P01', 'SERVICE_UNAVAILABLE'],
    ['57P03', 'SERVICE_UNAVAILABLE'],
    ['08006', 'SERVICE_UNAVAILABLE'],
    ['57014', 'SERVICE_UNAVAILABLE'],
    ['55P03', 'SERVICE_UNAVAILABLE'],
    ['ECONNREFUSED', 'SERVICE_UNAVAILABLE'],
    ['42P01', 'INTERNAL'],
  ])('maps Postgres %s, even wrapped by drizzle, to %s', (code, expected) => {
    expect(classify(pgError(code)).code).toBe(expected);
    expect(classify(wrapped(pgError(code))).code).toBe(expected);
  });

  it('maps pg-pool connection failures without a code to SERVICE_UNAVAILABLE with Retry-After', () => {
    for (const message of ['timeout exceeded when trying to connect', 'Connection terminated unexpectedly']) {
      const error = classify(new Error(message));
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.options.params).toEqual({ retryAfter: 5 });
    }
  });

  it('maps the driver giving up on an unanswered query (query_timeout), even wrapped by drizzle, to SERVICE_UNAVAILABLE with Retry-After', () => {
    for (const error of [new Error('Query read timeout'), wrapped(new Error('Query read timeout'))]) {
      expect(classify(error).code).toBe('SERVICE_UNAVAILABLE');
      expect(classify(error).options.params).toEqual({ retryAfter: 5 });
    }
  });

  it('maps Nest HTTP exceptions by status', () => {
    expect(classify(new NotFoundException()).code).toBe('NOT_FOUND');
    expect(classify(new PayloadTooLargeException()).code).toBe('PAYLOAD_TOO_LARGE');
    expect(classify(new HttpException('x', 415)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(classify(new HttpException('x', 429)).code).toBe('RATE_LIMITED');
    expect(classify(new BadRequestException()).code).toBe('BAD_REQUEST');
    expect(classify(new HttpException('x', 418)).code).toBe('BAD_REQUEST');
    expect(classify(new HttpException('x', 504)).code).toBe('INTERNAL');
  });

  it('gives a framework error the params its code declares', () => {
    expect(classify(new PayloadTooLargeException()).options.params).toEqual({ limit: 2048 });
    expect(classify(new HttpException('x', 429)).options.params).toEqual({ retryAfter: 5 });
    expect(classify(new HttpException('x', 503)).options.params).toEqual({ retryAfter: 5 });
    expect(classify(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).options.params).toEqual({ limit: 2048 });
    expect(classify(new NotFoundException()).options.params).toBeUndefined();
  });

  it('maps Fastify errors by their code', () => {
    const fastify = (code: string, statusCode: number) => Object.assign(new Error('x'), { code, statusCode });
    expect(classify(fastify('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(classify(fastify('FST_ERR_CTP_BODY_TOO_LARGE', 413)).code).toBe('PAYLOAD_TOO_LARGE');
    expect(classify(fastify('FST_ERR_CTP_INVALID_JSON_BODY', 400)).code).toBe('MALFORMED_JSON');
    expect(classify(fastify('FST_ERR_SOMETHING_NEW', 404)).code).toBe('NOT_FOUND');
  });

  it('treats anything else as INTERNAL', () => {
    expect(classify(new TypeError('x is undefined')).code).toBe('INTERNAL');
    expect(classify('a string').code).toBe('INTERNAL');
    expect(classify(undefined).code).toBe('INTERNAL');
  });
});
