import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES } from '../../src/common/errors/error-catalog';
import { LANGUAGES } from '../../src/common/i18n/language';
import { useTestApp } from '../helpers/test-app';
import { ProbeModule } from '../fixtures/probe.module';

const BASE = 'http://localhost:3000';

describe('RFC 9457 problem details', () => {
  const ctx = useTestApp({ extraModules: [ProbeModule] });

  const post = (payload: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    ctx.t.app.inject({ method: 'POST', url: '/test-probe', payload, headers });

  function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string) {
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, type: `${BASE}/problems/${code.toLowerCase().replaceAll('_', '-')}` });
    expect(typeof body.title).toBe('string');
    expect(typeof body.detail).toBe('string');
    expect(body.requestId).toBe(response.headers['x-request-id']);
    return body;
  }

  it('answers /health/ready with 200 while the database is up', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', database: 'up' });
  });

  it('answers an unknown route with 404 NOT_FOUND and the request path as instance', async () => {
    const body = expectProblem(await ctx.t.app.inject({ method: 'GET', url: '/nope?x=1' }), 404, 'NOT_FOUND');
    expect(body.instance).toBe('/nope');
    expect(body.title).toBe('Not found');
  });

  it('answers a malformed URL with 400 problem+json', async () => {
    expectProblem(await ctx.t.app.inject({ method: 'GET', url: '/health/%' }), 400, 'BAD_REQUEST');
  });

  it('refuses a text/plain body with 415 instead of parsing it', async () => {
    const response = await post('{"name":"a","email":"a@example.com"}', { 'content-type': 'text/plain' });
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a form-encoded body with 415', async () => {
    const response = await post('name=a&email=a%40example.com', { 'content-type': 'application/x-www-form-urlencoded' });
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a body without a Content-Type with 415', async () => {
    const response = await ctx.t.app.inject({ method: 'POST', url: '/test-probe', payload: Buffer.from('{"name":"a"}') });
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a 2 MiB JSON body with 413', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), email: 'a@example.com' });
    const body = expectProblem(await post(big), 413, 'PAYLOAD_TOO_LARGE');
    // The member PAYLOAD_TOO_LARGE declares, also in the detail; nothing another code declares.
    expect(body.limit).toBe(1048576);
    expect(body.detail).toContain('1048576');
    expect(body).not.toHaveProperty('retryAfter');
  });

  it('answers truncated JSON with 400 MALFORMED_JSON', async () => {
    expectProblem(await post('{"name": "abc", "email": "a@exa'), 400, 'MALFORMED_JSON');
  });

  it('answers an empty JSON body with 400 MALFORMED_JSON', async () => {
    expectProblem(await post(''), 400, 'MALFORMED_JSON');
  });

  it('keeps the raw body only on routes marked @RawBody(), not by URL prefix', async () => {
    const payload = '{ "a" :1 }';
    const unmarked = await ctx.t.app.inject({ method: 'POST', url: '/v1/webhooks/test-probe', payload, headers: { 'content-type': 'application/json' } });
    expect(unmarked.statusCode, unmarked.body).toBe(201);
    expect(unmarked.json()).toEqual({ rawBody: null });
    const marked = await ctx.t.app.inject({ method: 'POST', url: '/test-probe/raw', payload, headers: { 'content-type': 'application/json' } });
    expect(marked.statusCode, marked.body).toBe(201);
    expect(marked.json()).toEqual({ rawBody: payload });
  });

  it('lists one error per invalid field with 422 VALIDATION_FAILED', async () => {
    const body = expectProblem(await post(JSON.stringify({ name: '', email: 'nope', tags: ['ok', 5], role: 'ADMIN' })), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { field: 'name', code: 'TOO_SMALL', message: 'Must be at least 1' },
        { field: 'email', code: 'INVALID_FORMAT', message: 'Invalid format' },
        { field: 'tags.1', code: 'INVALID_TYPE', message: 'Expected string' },
        { field: 'role', code: 'UNRECOGNIZED_KEY', message: 'Unknown field' },
      ]),
    );
    expect(body.errors).toHaveLength(4);
  });

  it('reports a missing field as REQUIRED', async () => {
    const body = expectProblem(await post(JSON.stringify({ email: 'a@example.com' })), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ field: 'name', code: 'REQUIRED', message: 'Required' }]);
  });

  it('answers a NUL byte in a validated field with 422, naming the field', async () => {
    const body = expectProblem(await post(JSON.stringify({ name: 'a\u0000b', email: 'a@example.com' })), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ field: 'name', code: 'INVALID_CHARACTERS', message: expect.any(String) }]);
  });

  it('answers a lone surrogate in a nested field with 422', async () => {
    const body = expectProblem(await post('{"name":"a","email":"a@example.com","nested":{"label":"\\ud800"}}'), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ field: 'nested.label', code: 'INVALID_CHARACTERS', message: expect.any(String) }]);
  });

  it('answers a NUL byte in a query string with 422', async () => {
    const body = expectProblem(await ctx.t.app.inject({ method: 'GET', url: '/test-probe/slow?ms=1%00' }), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ field: 'ms', code: 'INVALID_CHARACTERS', message: expect.any(String) }]);
  });

  it('translates title and detail from Accept-Language', async () => {
    const tr = expectProblem(await ctx.t.app.inject({ method: 'GET', url: '/nope', headers: { 'accept-language': 'tr' } }), 404, 'NOT_FOUND');
    expect(tr.title).toBe('Bulunamadı');
    expect(tr.detail).toBe('İstenen kaynak mevcut değil.');
    const ar = await ctx.t.app.inject({ method: 'GET', url: '/nope', headers: { 'accept-language': 'fr-FR, ar;q=0.5' } });
    expect(ar.json().title).toBe('غير موجود');
    expect(ar.headers['content-language']).toBe('ar');
    const fallback = await ctx.t.app.inject({ method: 'GET', url: '/nope', headers: { 'accept-language': 'de' } });
    expect(fallback.json().title).toBe('Not found');
  });

  it('translates per-field messages too', async () => {
    const response = await ctx.t.app.inject({
      method: 'POST',
      url: '/test-probe',
      payload: JSON.stringify({ email: 'a@example.com' }),
      headers: { 'content-type': 'application/json', 'accept-language': 'tr-TR' },
    });
    expect(response.json().errors).toEqual([{ field: 'name', code: 'REQUIRED', message: 'Zorunlu' }]);
  });

  it('hides everything about an unexpected error behind 500 INTERNAL', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/crash' });
    const body = expectProblem(response, 500, 'INTERNAL');
    expect(response.body).not.toMatch(/hunter2|SELECT|stack|at /);
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type']);
  });

  it('hides SQL and driver text from a database error', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/sql-error' });
    expectProblem(response, 500, 'INTERNAL');
    expect(response.body).not.toMatch(/hunter2|table_that_does_not_exist|relation|SELECT/);
  });

  it('maps a unique violation (23505) to 409 CONFLICT', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/unique-violation' });
    expectProblem(response, 409, 'CONFLICT');
    expect(response.body).not.toMatch(/probe_unique|duplicate key/);
  });

  it.each(ERROR_CODES)('writes a thrown DomainError %s with its catalog status, in every language', async (code) => {
    for (const lang of LANGUAGES) {
      const response = await ctx.t.app.inject({ method: 'GET', url: `/test-probe/fail/${code}`, headers: { 'accept-language': lang } });
      const body = expectProblem(response, ERROR_CATALOG[code].status, code);
      expect(response.headers['content-language']).toBe(lang);
      expect(body.title).not.toContain('problems:');
      expect(body.detail).not.toMatch(/problems:|\{\{/);
    }
  });

  it('sends WWW-Authenticate with 401 and Retry-After with 429', async () => {
    const unauthorized = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/fail/UNAUTHORIZED' });
    expect(unauthorized.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
    const limited = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/fail/RATE_LIMITED' });
    expect(limited.headers['retry-after']).toBe('30');
    expect(limited.json().detail).toBe('Rate limit exceeded. Try again in 30 seconds.');
    expect(limited.json()).toMatchObject({ retryAfter: 30, limit: 60 });
    const notFound = await ctx.t.app.inject({ method: 'GET', url: '/test-probe/fail/NOT_FOUND' });
    expect(Object.keys(notFound.json()).sort()).toEqual(['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type']);
  });

  it('echoes a sane X-Request-Id and replaces an insane one', async () => {
    const sane = await ctx.t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'abc.DEF-123_x' } });
    expect(sane.headers['x-request-id']).toBe('abc.DEF-123_x');
    for (const insane of ['a b', 'x'.repeat(129), '<script>', 'ok\u00e9']) {
      const response = await ctx.t.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': insane } });
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.json().requestId).toBe(response.headers['x-request-id']);
    }
  });

  it('serves a description behind every problem type URI', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/problems/unsupported-media-type', headers: { 'accept-language': 'ar' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      type: `${BASE}/problems/unsupported-media-type`,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      status: 415,
      title: 'نوع وسائط غير مدعوم',
    });
    expectProblem(await ctx.t.app.inject({ method: 'GET', url: '/problems/no-such-problem' }), 404, 'NOT_FOUND');
  });

  it('sets helmet headers and sends no CORS headers when no origin is configured', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://evil.example' } });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('gives API answers, found or not, the REST set of headers and a policy that allows nothing; the docs and HTML pages the document set (issue 21)', async () => {
    // OWASP's REST Security Cheat Sheet: what an API answer needs, and nothing for HTML documents.
    const api = {
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    };
    const documentOnly = {
      'cross-origin-opener-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    };
    const document = { ...documentOnly, 'cross-origin-resource-policy': 'same-origin', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };
    for (const url of ['/health/live', '/openapi.json', '/no-such-route', '/test-probe/crash']) {
      const response = await ctx.t.app.inject({ method: 'GET', url });
      expect(response.headers, url).toMatchObject(api);
      for (const name of Object.keys(documentOnly)) expect(response.headers[name], `${url} ${name}`).toBeUndefined();
    }
    for (const url of ['/docs', '/docs/swagger-ui.css']) {
      const response = await ctx.t.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers, url).toMatchObject({ ...document, 'x-frame-options': 'SAMEORIGIN' });
      expect(response.headers['content-security-policy'], url).toBe(
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;" +
          "object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' 'unsafe-inline'",
      );
    }
    const page = await ctx.t.app.inject({ method: 'GET', url: '/activate' });
    expect(page.statusCode).toBe(200);
    expect(page.headers).toMatchObject({ ...document, 'x-frame-options': 'DENY' });
    expect(page.headers['content-security-policy']).toContain("script-src 'sha256-");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    // A page's refusal (a `lang` past its limit) still allows nothing by default, and no framing.
    const refused = await ctx.t.app.inject({ method: 'GET', url: `/activate?lang=${'x'.repeat(36)}` });
    expect(refused.statusCode).toBe(422);
    expect(refused.headers).toMatchObject({ ...document, 'x-frame-options': 'DENY' });
    expect(refused.headers['content-security-policy']).toMatch(/^default-src 'none'[;].*frame-ancestors 'none'$/);
  });
});

describe('CORS from CORS_ORIGINS', () => {
  const ctx = useTestApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });

  it('allows a listed origin with credentials, on preflight too', async () => {
    const simple = await ctx.t.app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://app.example.com' } });
    expect(simple.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(simple.headers['access-control-allow-credentials']).toBe('true');
    const preflight = await ctx.t.app.inject({
      method: 'OPTIONS',
      url: '/health/live',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('does not allow an origin that is not listed', async () => {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://evil.example' } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
