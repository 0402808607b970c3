import { describe, expect, it } from 'vitest';
import { registerAndLogin } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

interface ProblemExample {
  value: { status: number; code: string; type: string; title: string };
}
type ExampleRef = { $ref: string };
interface Operation {
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { examples?: Record<string, ExampleRef>; schema?: unknown }> }>;
}

// PUBLIC_BASE_URL keeps its default (http://localhost:3000) while the docs are opened at 127.0.0.1.
describe('Swagger UI findings', () => {
  const ctx = useTestApp();

  const createKeyByCookie = (cookie: string, headers: Record<string, string>) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { cookie: `gatehouse_auth=${cookie}`, 'content-type': 'application/json', ...headers },
      payload: JSON.stringify({ name: 'from the docs', scope: 'read-only' }),
    });
  const keysOf = async (userId: string) => (await ctx.db.query('SELECT count(*)::int AS n FROM api_keys WHERE owner_id = $1', [userId])).rows[0].n as number;

  it("CSRF: a cookie write from the docs opened at http://127.0.0.1:3000 (Origin = the request's own origin) is not cross-site", async () => {
    const session = await registerAndLogin(ctx.t.app);
    const response = await createKeyByCookie(session.cookies.gatehouse_auth!, { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' });
    expect(response.statusCode, response.body).toBe(201);
    expect(await keysOf(session.user.id)).toBe(1);
  });

  it('CSRF: Sec-Fetch-Site same-origin is not cross-site, even with an Origin that is not listed', async () => {
    const session = await registerAndLogin(ctx.t.app);
    const response = await createKeyByCookie(session.cookies.gatehouse_auth!, {
      host: '127.0.0.1:3000',
      origin: 'http://127.0.0.1:3000',
      'sec-fetch-site': 'same-origin',
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(await keysOf(session.user.id)).toBe(1);
  });

  it('CSRF: a foreign origin, or the same host on another scheme or port, is still refused and writes nothing', async () => {
    const session = await registerAndLogin(ctx.t.app);
    for (const origin of ['https://evil.example', 'https://127.0.0.1:3000', 'http://127.0.0.1:3001']) {
      const response = await createKeyByCookie(session.cookies.gatehouse_auth!, { host: '127.0.0.1:3000', origin });
      expect(response.statusCode, origin).toBe(403);
      expect(response.json().code).toBe('CSRF_REJECTED');
    }
    const crossSite = await createKeyByCookie(session.cookies.gatehouse_auth!, { host: '127.0.0.1:3000', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);
    expect(await keysOf(session.user.id)).toBe(0);
  });

  it('issue 22: Swagger UI loads the spec by URL: its init script is small and names /openapi.json, which serves the document', async () => {
    const init = await ctx.t.app.inject({ method: 'GET', url: '/docs/swagger-ui-init.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body.length).toBeLessThan(10_000);
    expect(init.body).toContain('"swaggerUrl": "/openapi.json"');
    expect(init.body).not.toContain('"openapi": "3.');
    const spec = await ctx.t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().info.title).toBe('Gatehouse API');
  });

  it('docs: every error status shows its own examples, one per documented code, not the same 422', async () => {
    const document = (await ctx.t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    let checked = 0;
    for (const item of Object.values(document.paths as Record<string, Record<string, Operation>>)) {
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const problem = response.content?.['application/problem+json'];
          // The integration operations' bodies have their own schema and inline examples (checked in integration-client).
          if (!problem || JSON.stringify(problem.schema).includes('IntegrationProblem')) continue;
          const examples = Object.values(problem.examples ?? {});
          expect(examples.length, `examples for ${status}`).toBeGreaterThan(0);
          for (const { $ref } of examples) {
            const { value } = document.components.examples[$ref.replace('#/components/examples/', '')] as ProblemExample;
            expect(value.status).toBe(Number(status));
            expect(value.type).toMatch(new RegExp(`/problems/${value.code.toLowerCase().replaceAll('_', '-')}$`));
            expect(value.title).not.toBe('');
          }
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    const create = document.paths['/v1/api-keys'].post as Operation;
    expect(Object.keys(create.responses['401']!.content!['application/problem+json']!.examples!)).toContain('ACCESS_TOKEN_EXPIRED');
    expect(Object.keys(create.responses['403']!.content!['application/problem+json']!.examples!)).toContain('CSRF_REJECTED');
  });

  it('docs: cookie auth is a documented scheme (apiKey in cookie gatehouse_auth) on every authenticated operation, and says why the padlock stays open', async () => {
    const document = (await ctx.t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const scheme = document.components.securitySchemes.cookie;
    expect(scheme).toMatchObject({ type: 'apiKey', in: 'cookie', name: '__Host-gatehouse_auth' });
    expect(scheme.description).toMatch(/padlock/);
    expect(document.security).toContainEqual({ cookie: [] });
    const create = document.paths['/v1/api-keys'].post as Operation;
    expect(create.security ?? document.security).toContainEqual({ cookie: [] });
  });
});
