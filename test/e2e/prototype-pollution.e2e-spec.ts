import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndLogin, userInput } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

/** What Object.prototype holds now: its own keys and what a fresh object inherits. */
const prototypeState = () => ({
  keys: Reflect.ownKeys(Object.prototype).map(String).sort(),
  inherited: Object.keys(Object.create(Object.prototype) as object),
});

/**
 * Issue 20 (scenario 9): `__proto__` and `constructor.prototype` in a JSON body are refused with a
 * 400 problem+json before any handler sees them (Fastify's parser, with onProtoPoisoning and
 * onConstructorPoisoning set to 'error'), and nothing is polluted. The app runs in this process,
 * so this Object.prototype is the server's.
 */
describe('prototype pollution through request bodies and queries', () => {
  const ctx = useTestApp();
  let before: ReturnType<typeof prototypeState>;
  let accessToken: string;
  beforeAll(async () => {
    before = prototypeState();
    accessToken = (await registerAndLogin(ctx.t.app)).accessToken;
  });
  afterAll(() => {
    expect(prototypeState()).toEqual(before);
  });

  const send = (method: 'POST' | 'PATCH', url: string, payload: string, headers: Record<string, string> = {}) =>
    ctx.t.app.inject({ method, url, payload, headers: { 'content-type': 'application/json', ...headers } });
  const usersNamed = async (email: string) => (await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email])).rows[0]!.n;

  const register = () => {
    const input = userInput();
    return { input, fields: JSON.stringify(input).slice(1, -1) };
  };

  it.each([
    ['__proto__ at the top', (fields: string) => `{${fields},"__proto__":{"polluted":"yes","role":"ADMIN"}}`],
    ['__proto__ nested', (fields: string) => `{${fields},"extra":{"deeper":[{"__proto__":{"polluted":"yes"}}]}}`],
    ['__proto__ written with unicode escapes', (fields: string) => `{${fields},"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":"yes"}}`],
    ['constructor.prototype', (fields: string) => `{${fields},"constructor":{"prototype":{"polluted":"yes"}}}`],
  ])('issue 20 (scenario 9): %s in a registration is a 400 MALFORMED_JSON problem, no user is written, nothing is polluted', async (_, body) => {
    const { input, fields } = register();
    const response = await send('POST', '/v1/auth/register', body(fields));
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
    expect(await usersNamed(input.email)).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(prototypeState()).toEqual(before);
  });

  it('issue 20 (scenario 9): on a signed-in route (PATCH /v1/users/update) too: 400, and the user is unchanged', async () => {
    const response = await send('PATCH', '/v1/users/update', '{"firstName":"Mallory","__proto__":{"role":"ADMIN"}}', {
      authorization: `Bearer ${accessToken}`,
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ code: 'MALFORMED_JSON' });
    const me = await ctx.t.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.json()).toMatchObject({ user: { role: 'USER' } });
    expect(me.json<{ user: { firstName: string } }>().user.firstName).not.toBe('Mallory');
  });

  it('issue 20 (scenario 9): in a query string, __proto__[…] and constructor[…] are refused as unknown fields (422), a bare __proto__ is ignored, and nothing is polluted', async () => {
    const list = (query: string) => ctx.t.app.inject({ method: 'GET', url: `/v1/products?${query}`, headers: { authorization: `Bearer ${accessToken}` } });
    for (const query of ['__proto__[polluted]=yes', '__proto__.polluted=yes', 'constructor[prototype][polluted]=yes', 'constructor=yes']) {
      const response = await list(query);
      expect(response.statusCode, `${query}: ${response.body}`).toBe(422);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: query.split('=')[0], code: 'UNRECOGNIZED_KEY' }] });
    }
    // The query parser keeps it as a plain own key, and the schema drops it: the same answer as without it.
    for (const query of ['__proto__=yes', '__proto__=a&__proto__=b']) {
      const response = await list(`limit=1&${query}`);
      expect(response.statusCode, `${query}: ${response.body}`).toBe(200);
      expect(response.json()).toEqual((await list('limit=1')).json());
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(prototypeState()).toEqual(before);
  });
});
