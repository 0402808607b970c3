import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/test-app';

describe('JSON nested 5,000 deep answers 422 VALIDATION_FAILED, not 500 (RangeError in the string cleaner)', () => {
  const ctx = useTestApp();
  const post = (payload: string) =>
    ctx.t.app.inject({ method: 'POST', url: '/v1/auth/register', payload, headers: { 'content-type': 'application/json', 'accept-language': 'en' } });

  it.each([
    ['arrays', `{"email":${'['.repeat(5_000)}1${']'.repeat(5_000)}}`, 'email'],
    ['objects', `{"email":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`, 'email'],
  ])('5,000 nested %s: 422 with a TOO_DEEP field error, and no user written', async (_, payload, field) => {
    const before = (await ctx.db.query('SELECT count(*)::int AS n FROM users')).rows[0].n;
    const response = await post(payload);
    expect(response.statusCode, response.body).toBe(422);
    const body = response.json<{ code: string; errors: Array<{ field: string; code: string; message: string }> }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.code).toBe('TOO_DEEP');
    expect(body.errors[0]!.field.startsWith(`${field}.`)).toBe(true);
    expect(body.errors[0]!.message).toBe('Nested more than 64 levels deep');
    expect((await ctx.db.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(before);
  });
});
