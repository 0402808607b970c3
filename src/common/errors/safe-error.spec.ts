import { describe, expect, it } from 'vitest';
import { safeErrorForLog } from './safe-error';

describe('safeErrorForLog', () => {
  it('drops the bound parameters drizzle puts in its message and stack', () => {
    const driver = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), { code: '23505' });
    const wrapped = Object.assign(
      new Error('Failed query: insert into "users" values ($1, $2)\nparams: a@example.com,$argon2id$v=19$secret-hash', { cause: driver }),
      {
        params: ['a@example.com', '$argon2id$v=19$secret-hash'],
      },
    );
    const safe = safeErrorForLog(wrapped);
    const text = JSON.stringify(safe);
    expect(text).not.toContain('secret-hash');
    expect(text).not.toContain('a@example.com');
    expect(safe.message).toBe('Failed query: insert into "users" values ($1, $2)\nparams: [REDACTED]');
    expect(safe.cause).toMatchObject({ code: '23505', type: 'Error' });
  });

  it('drops the query string of a path in a message, where activation and reset links carry tokens', () => {
    const safe = safeErrorForLog(new Error('Cannot GET /v1/auth/activate?token=tok-secret&x=1'), 0, false);
    expect(safe.message).toBe('Cannot GET /v1/auth/activate?[REDACTED]');
  });

  it('describes values that are not errors without dumping them', () => {
    expect(safeErrorForLog(undefined)).toEqual({ type: 'undefined', message: 'undefined' });
  });
});
