import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listRoutes } from '../../src/common/http/routes';
import { useTestApp } from '../helpers/test-app';

const COMMITTED = join(__dirname, '../../openapi/openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}

describe('OpenAPI and Swagger UI', () => {
  const ctx = useTestApp();
  let served: { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> }; security: unknown[] };

  beforeAll(async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    served = response.json();
  });

  it('serves Swagger UI at /docs', async () => {
    const page = await ctx.t.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger-ui');
    const init = await ctx.t.app.inject({ method: 'GET', url: '/docs/swagger-ui-init.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('Gatehouse API');
  });

  it('serves an OpenAPI 3.x document equal to the committed openapi/openapi.json (run `npm run openapi` to update it)', () => {
    expect(served.openapi).toMatch(/^3\./);
    expect(served).toEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')));
  });

  it('declares the bearer JWT, bearer API key and cookie schemes, required unless a route is public', () => {
    expect(Object.keys(served.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer', 'cookie']);
    expect(served.security).toEqual([{ bearer: [] }, { apiKey: [] }, { cookie: [] }]);
    expect(served.paths['/health/live']?.get?.security).toEqual([]);
  });

  it('documents 401 on every protected operation, and 429 with its headers on every rate-limited one', () => {
    for (const [path, item] of Object.entries(served.paths)) {
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const label = `${method.toUpperCase()} ${path}`;
        const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
        if (!isPublic) expect(operation.responses['401'], label).toBeDefined();
        if (path.startsWith('/health/') || path === '/v1/webhooks/stripe') expect(operation.responses['429'], label).toBeUndefined();
        else expect(Object.keys((operation.responses['429'] as { headers?: object } | undefined)?.headers ?? {}), label).toContain('X-RateLimit-Reset');
      }
    }
    expect(served.paths['/v1/users']?.get?.responses['403']).toBeDefined();
  });

  it('documents every route the app serves, and nothing it does not', () => {
    const appRoutes = listRoutes(ctx.t.app).map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(served.paths).flatMap(([path, item]) => METHODS.filter((method) => item[method]).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(appRoutes.sort());
  });

  it('states the id and money grammar the server enforces: a prefix pattern on every id path parameter, a pattern on money fields (issue 8)', () => {
    let idParameters = 0;
    for (const [path, item] of Object.entries(served.paths)) {
      for (const method of METHODS) {
        const parameters = ((item[method] as { parameters?: { in: string; name: string; schema: { pattern?: string; maxLength?: number } }[] } | undefined)?.parameters ?? []);
        for (const parameter of parameters.filter((candidate) => candidate.in === 'path' && candidate.name === 'id')) {
          idParameters++;
          expect(parameter.schema.pattern, `${method} ${path}`).toMatch(/^\^[a-z]+_\[0-7\]/);
          expect(parameter.schema.maxLength, `${method} ${path}`).toBeGreaterThan(0);
        }
      }
    }
    expect(idParameters).toBeGreaterThan(10);
    type Schema = { pattern?: string; items?: Schema; properties: Record<string, Schema> };
    const schemas = (served as unknown as { components: { schemas: Record<string, Schema> } }).components.schemas;
    for (const name of ['ProductCreateRequest', 'ProductUpdateRequest']) {
      expect(schemas[name]?.properties.priceNet?.pattern, name).toBeTruthy();
      expect(schemas[name]?.properties.vat?.pattern, name).toBeTruthy();
    }
    expect(schemas.CheckoutSessionCreateRequest?.properties.items?.items?.properties.productId?.pattern).toBe('^prd_[0-7][0-9a-hjkmnp-tv-z]{25}$');
  });

  it('gives every operation a unique operationId, a summary, a tag and problem+json errors', () => {
    const operations = Object.values(served.paths).flatMap((path) =>
      METHODS.flatMap((method) => (path[method] ? [path[method]] : [])),
    );
    expect(operations.length).toBeGreaterThan(0);
    const ids = operations.map((operation) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const operation of operations) {
      expect(operation.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operation.summary, operation.operationId).toBeTruthy();
      expect(operation.tags?.length, operation.operationId).toBeGreaterThan(0);
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
      expect(errors.length, operation.operationId).toBeGreaterThan(0);
      for (const [, response] of errors) expect(Object.keys(response.content ?? {})).toEqual(['application/problem+json']);
    }
  });
});
