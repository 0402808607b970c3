import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertProduct } from '../factories/products';
import { insertUser } from '../factories/users';
import { useTestApp } from '../helpers/test-app';
import { putOnPlan } from '../factories/subscriptions';

/**
 * Issue 8, "the published integration surface": black-box clients of a real listening server,
 * speaking plain fetch, asserting only what the integration docs promise (plus our `code`).
 */

const translations = (lang: string, namespace: string) =>
  JSON.parse(readFileSync(join(__dirname, '../../src/i18n', lang, `${namespace}.json`), 'utf8')) as Record<string, any>;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A real server on a free port, whose PUBLIC_BASE_URL is its own address so `type` URIs resolve. */
function useListeningServer(env: Record<string, string> = {}) {
  let port = 0;
  const ctx: ReturnType<typeof useTestApp> & { base: string } = Object.assign(
    useTestApp(async () => {
      port = await freePort();
      ctx.base = `http://127.0.0.1:${port}`;
      return { env: { PUBLIC_BASE_URL: ctx.base, ...env } };
    }),
    { base: '' },
  );
  beforeAll(() => ctx.t.app.listen(port, '127.0.0.1'));
  return ctx;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const activeUser = (ctx: { db: Client }, overrides: Parameters<typeof insertUser>[1] = {}) => insertUser(ctx.db, overrides);

const refreshTokenRows = async (db: Client, userId: string) =>
  Number((await db.query('SELECT count(*) FROM refresh_tokens WHERE user_id = $1', [userId])).rows[0].count);

describe('integration docs client (issue 8, done-means 4): login at /auth/login, getAll, a bad email, no token', () => {
  const ctx = useListeningServer();
  let productId: string;
  beforeAll(async () => {
    productId = (await insertProduct(ctx.db, { sku: 'INTEG-1', name: 'Integration licence', priceNetMinor: 20750, vatBasisPoints: 2000, stock: 5 })).id;
  });

  it('works unchanged against the server, as the docs describe it', async () => {
    const { base } = ctx;
    const user = await activeUser(ctx);
    // getAll is a paid endpoint.
    await putOnPlan(ctx.t.app, ctx.db, user.id, 'PREMIUM_MONTHLY');

    const login = await post(`${base}/auth/login`, { email: user.email, password: user.password });
    expect(login.status).toBe(200);
    const session: any = await login.json();
    expect(session.accessToken).toEqual({ token: expect.any(String), expirationDate: expect.any(String) });
    expect(Number.isNaN(Date.parse(session.accessToken.expirationDate))).toBe(false);
    expect(session).toHaveProperty('requiredAuthenticatorType', null);

    const products = await fetch(`${base}/api/integration/products/getAll`, { headers: { authorization: `Bearer ${session.accessToken.token}` } });
    expect(products.status).toBe(200);
    const list: any = await products.json();
    expect(list).toContainEqual({
      Id: productId,
      Sku: 'INTEG-1',
      Name: 'Integration licence',
      Barcode: null,
      PriceNet: 207.5,
      PriceGross: 249,
      Vat: 20,
      Stock: 5,
    });

    const badEmail = await post(`${base}/auth/login`, { email: 'not-an-email', password: 'whatever' });
    expect(badEmail.status).toBe(400);
    expect(badEmail.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const validation: any = await badEmail.json();
    expect(validation).toMatchObject({ type: `${base}/probs/validation`, title: 'Validation error(s)', status: 400, detail: expect.any(String) });
    const emailErrors = validation.Errors.find((entry: { Property: string }) => /^email$/i.test(entry.Property));
    expect(emailErrors.Errors).toEqual([expect.stringMatching(/\S/)]);

    const anonymous = await fetch(`${base}/api/integration/products/getAll`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ type: `${base}/probs/authorization`, status: 401, detail: expect.any(String) });

    // The `type` URIs resolve on this server.
    for (const type of [validation.type, `${base}/probs/authorization`]) {
      const page = await fetch(type);
      expect(page.status, type).toBe(200);
      expect(await page.json()).toMatchObject({ type, title: expect.any(String), description: expect.any(String) });
    }
    // The bad login wrote nothing: validation runs before the login is counted or a session made.
    expect(await refreshTokenRows(ctx.db, user.id)).toBe(1);
    const failures = await ctx.db.query("SELECT count(*) FROM login_failures WHERE key LIKE '%not-an-email%'");
    expect(Number(failures.rows[0].count)).toBe(0);
  });

  it('is the v1 login: the same cookies, and failed logins counted against the same email', async () => {
    const user = await activeUser(ctx);
    const wrong = await post(`${ctx.base}/auth/login`, { email: user.email, password: 'wrong password' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await wrong.json()).toMatchObject({
      type: `${ctx.base}/probs/authorization`,
      title: 'Authorization error',
      status: 401,
      code: 'INVALID_CREDENTIALS',
    });
    const counted = await ctx.db.query('SELECT failures FROM login_failures WHERE key = $1', [`email:${user.email.toLowerCase()}`]);
    expect(counted.rows).toEqual([{ failures: 1 }]);

    const right = await post(`${ctx.base}/auth/login`, { email: user.email, password: user.password });
    expect(right.status).toBe(200);
    expect(
      right.headers
        .getSetCookie()
        .map((cookie) => cookie.split('=')[0])
        .sort(),
    ).toEqual(['gatehouse_auth', 'gatehouse_auth_refresh']);
    expect((await ctx.db.query('SELECT key FROM login_failures WHERE key = $1', [`email:${user.email.toLowerCase()}`])).rows).toEqual([]);
  });

  it('answers forbidden with HTTP 401, body status 403 and /probs/authentication, and issues no session', async () => {
    const user = await activeUser(ctx, { status: 'SUSPENDED' });
    const response = await post(`${ctx.base}/auth/login`, { email: user.email, password: user.password });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      type: `${ctx.base}/probs/authentication`,
      title: 'Authentication error',
      status: 403,
      code: 'ACCOUNT_SUSPENDED',
    });
    expect(await refreshTokenRows(ctx.db, user.id)).toBe(0);
  });

  it('follows Accept-Language in detail and field messages, and keeps our code', async () => {
    const response = await post(`${ctx.base}/auth/login`, { email: 'nope', password: 'x' }, { 'accept-language': 'tr' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-language')).toBe('tr');
    const body: any = await response.json();
    expect(body.detail).toBe(translations('tr', 'problems').VALIDATION_FAILED.detail);
    expect(body.Errors).toEqual([{ Property: 'email', Errors: [translations('tr', 'validation').INVALID_FORMAT] }]);
    expect(body.code).toBe('VALIDATION_FAILED');
  });

  it('answers a wrong method on the integration paths with 405, Allow, and the integration shape', async () => {
    const login = await fetch(`${ctx.base}/auth/login`, { method: 'PUT' });
    expect(login.status).toBe(405);
    expect(login.headers.get('allow')).toBe('POST');
    expect(await login.json()).toMatchObject({ type: `${ctx.base}/probs/business`, status: 405, code: 'METHOD_NOT_ALLOWED' });
    const getAll = await fetch(`${ctx.base}/api/integration/products/getAll`, { method: 'DELETE' });
    expect(getAll.status).toBe(405);
    expect(await getAll.json()).toMatchObject({ type: `${ctx.base}/probs/business`, status: 405, code: 'METHOD_NOT_ALLOWED' });
  });

  it('keeps statuses the docs do not list in the integration shape: 415 is /probs/business', async () => {
    const response = await fetch(`${ctx.base}/auth/login`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'email=a' });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ type: `${ctx.base}/probs/business`, title: 'Rule violation', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('does not leak: /v1/auth/login and other routes keep RFC 9457 with code', async () => {
    const v1 = await post(`${ctx.base}/v1/auth/login`, { email: 'not-an-email', password: 'whatever' });
    expect(v1.status).toBe(422);
    const body: any = await v1.json();
    expect(body).toMatchObject({ type: `${ctx.base}/problems/validation-failed`, status: 422, code: 'VALIDATION_FAILED', instance: '/v1/auth/login' });
    expect(body.errors).toEqual([expect.objectContaining({ field: 'email', code: 'INVALID_FORMAT' })]);
    expect(body).not.toHaveProperty('Errors');
    const products = await fetch(`${ctx.base}/v1/products`);
    expect(products.status).toBe(401);
    expect(await products.json()).toMatchObject({ type: `${ctx.base}/problems/unauthorized`, code: 'UNAUTHORIZED' });
  });

  it('serves and describes every /probs type, in the request language', async () => {
    for (const slug of ['validation', 'business', 'authorization', 'authentication', 'internal']) {
      const page = await fetch(`${ctx.base}/probs/${slug}`, { headers: { 'accept-language': 'ar' } });
      expect(page.status, slug).toBe(200);
      expect(await page.json()).toMatchObject({ type: `${ctx.base}/probs/${slug}`, description: translations('ar', 'integration').probs[slug] });
    }
  });

  it('documents those two operations with their own IntegrationProblem responses and examples', async () => {
    const spec: any = await (await fetch(`${ctx.base}/openapi.json`)).json();
    const login = spec.paths['/auth/login'].post;
    const getAll = spec.paths['/api/integration/products/getAll'].get;
    expect(Object.keys(login.responses).sort()).toEqual(['200', '400', '401', '413', '415', '429', '431', '500', '503']);
    expect(Object.keys(getAll.responses).sort()).toEqual(['200', '400', '401', '429', '431', '500', '503']);
    for (const operation of [login, getAll]) {
      // Node answers 431 before any route runs, so with the plain problem on every path.
      expect(operation.responses['431'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/ProblemDetails');
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        if (status === '200' || status === '431') continue;
        const media = response.content['application/problem+json'];
        expect(media.schema.$ref, status).toBe('#/components/schemas/IntegrationProblem');
        expect(response['x-problem-codes'].length, status).toBeGreaterThan(0);
        expect(Object.keys(media.examples).sort(), status).toEqual([...response['x-problem-codes']].sort());
      }
    }
    // The served document names this server's own PUBLIC_BASE_URL in its examples (issue 22); the committed one http://localhost:3000.
    expect(login.responses['401'].content['application/problem+json'].examples.ACCOUNT_SUSPENDED.value).toMatchObject({
      status: 403,
      type: `${ctx.base}/probs/authentication`,
    });
    expect(Object.keys(login.responses['429'].headers)).toContain('Retry-After');
    expect(spec.paths['/v1/auth/login'].post.responses['422'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/ProblemDetails');
  });
});

describe('integration docs client: 429 keeps its status and headers (issue 8)', () => {
  const ctx = useListeningServer({ RATE_LIMIT_LOGIN: '2/60' });

  it('shares the v1 login limit, and answers 429 with Retry-After and X-RateLimit-* in the integration shape', async () => {
    const user = await activeUser(ctx);
    for (let i = 0; i < 2; i++) expect((await post(`${ctx.base}/v1/auth/login`, { email: user.email, password: 'wrong' })).status).toBe(401);

    const limited = await post(`${ctx.base}/auth/login`, { email: user.email, password: user.password });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-limit')).toBe('2');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(await limited.json()).toMatchObject({ type: `${ctx.base}/probs/business`, title: 'Rule violation', status: 429, code: 'RATE_LIMITED' });

    const v1 = await post(`${ctx.base}/v1/auth/login`, { email: user.email, password: user.password });
    expect(v1.status).toBe(429);
    expect(await v1.json()).toMatchObject({ type: `${ctx.base}/problems/rate-limited`, code: 'RATE_LIMITED' });
    // Refused before the login ran: no session, and the failure count stays at the two wrong passwords.
    expect(await refreshTokenRows(ctx.db, user.id)).toBe(0);
    const counted = await ctx.db.query('SELECT failures FROM login_failures WHERE key = $1', [`email:${user.email.toLowerCase()}`]);
    expect(counted.rows).toEqual([{ failures: 2 }]);
  });
});
