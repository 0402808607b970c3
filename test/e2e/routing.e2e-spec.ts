import { describe, expect, it } from 'vitest';
import { registerAndLogin } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

type Response = { statusCode: number; headers: Record<string, unknown>; json(): unknown };

function expectProblem(response: Response, status: number, code: string) {
  expect(response.statusCode, JSON.stringify(response.json())).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  return body;
}

describe('routing: 405 for a known path asked with the wrong method (issue 8, finding: wrong methods never get 405)', () => {
  const ctx = useTestApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });

  it.each([
    ['PUT', '/v1/auth/login', 'POST'],
    ['GET', '/v1/auth/login', 'POST'],
    ['PATCH', '/v1/licenses/validate', 'POST'],
    ['GET', '/v1/licenses/validate', 'POST'],
    ['DELETE', '/v1/licenses/jwks', 'GET, HEAD'],
    ['POST', '/health/live', 'GET, HEAD'],
    ['PUT', '/v1/products/prd_01jh8x2v3kf6qz9w0c4m5t7r8y', 'GET, HEAD, PATCH, DELETE'],
    ['GET', '/v1/api-keys/key_01jh8x2v3kf6qz9w0c4m5t7r8y/rotate', 'POST'],
  ])('%s %s answers 405 METHOD_NOT_ALLOWED with Allow: %s, before authentication', async (method, url, allow) => {
    const response = await ctx.t.app.inject({ method: method as 'GET', url });
    const body = expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe(allow);
    expect(body.instance).toBe(url);
  });

  it('never reads a literal segment as an id: PATCH /v1/licenses/validate is 405 for a signed-in caller too, and writes nothing', async () => {
    const { accessToken } = await registerAndLogin(ctx.t.app);
    const before = await ctx.db.query('SELECT count(*)::int AS n FROM outbox_messages');
    const response = await ctx.t.app.inject({
      method: 'PATCH',
      url: '/v1/licenses/validate',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ status: 'REVOKED' }),
    });
    expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe('POST');
    const after = await ctx.db.query('SELECT count(*)::int AS n FROM outbox_messages');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('keeps 404 for a path no route serves, whatever the method', async () => {
    for (const method of ['GET', 'POST', 'PUT'] as const) {
      const response = await ctx.t.app.inject({ method, url: '/v1/nothing-here' });
      expectProblem(response, 404, 'NOT_FOUND');
      expect(response.headers.allow).toBeUndefined();
    }
    expectProblem(await ctx.t.app.inject({ method: 'GET', url: '/v1/licenses/validate/extra' }), 404, 'NOT_FOUND');
  });

  it('serves HEAD wherever GET is served, and the right method still reaches its handler', async () => {
    const head = await ctx.t.app.inject({ method: 'HEAD', url: '/health/live' });
    expect(head.statusCode).toBe(200);
    const jwks = await ctx.t.app.inject({ method: 'GET', url: '/v1/licenses/jwks' });
    expect(jwks.statusCode).toBe(200);
    const validate = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/licenses/validate',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ key: 'AAAAA-AAAAA-AAAAA-AAAAA-AAAAA' }),
    });
    expect(validate.statusCode).toBe(200);
  });

  it('leaves OPTIONS to CORS: a preflight on a known path still gets 204 with the CORS headers, and exposes Allow', async () => {
    const preflight = await ctx.t.app.inject({
      method: 'OPTIONS',
      url: '/v1/licenses/validate',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const wrong = await ctx.t.app.inject({ method: 'PUT', url: '/v1/auth/login', headers: { origin: 'https://app.example.com' } });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(wrong.headers['access-control-expose-headers'])).toContain('allow');
  });
});
