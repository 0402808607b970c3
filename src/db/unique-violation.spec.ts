import { describe, expect, it } from 'vitest';
import { isUniqueViolation } from './unique-violation';

const pgError = (code: string, constraint?: string) => Object.assign(new Error('pg'), { code, constraint });

describe('isUniqueViolation', () => {
  it('recognises a 23505 of the named constraint, also inside drizzle’s wrapper', () => {
    expect(isUniqueViolation(pgError('23505', 'users_email_key'), 'users_email_key')).toBe(true);
    expect(isUniqueViolation(new Error('Failed query', { cause: pgError('23505', 'users_email_key') }), 'users_email_key')).toBe(true);
  });

  it('leaves another key’s violation, and other errors, to the caller', () => {
    expect(isUniqueViolation(pgError('23505', 'users_pkey'), 'users_email_key')).toBe(false);
    expect(isUniqueViolation(pgError('23503', 'users_email_key'), 'users_email_key')).toBe(false);
    expect(isUniqueViolation('23505', 'users_email_key')).toBe(false);
  });
});
