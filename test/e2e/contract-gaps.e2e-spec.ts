import { Socket } from 'node:net';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { OpenApiContract } from '../helpers/openapi-contract';
import { useTestApp } from '../helpers/test-app';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const HOOK = 'https://hooks.example.com/gatehouse';

interface Spec {
  paths: Record<
    string,
    Record<
      string,
      { description?: string; parameters?: { name: string; schema: Record<string, unknown> }[]; responses: Record<string, Record<string, unknown>> }
    >
  >;
  components: { schemas: Record<string, Record<string, unknown>> };
}

/** What a fuzzer of the spec found it could not tell, closed: in the spec, and answered per field. */
describe('the contract: what JSON Schema can say, the spec says; what it refuses, the API refuses per field', () => {
  const REQUEST_TIMEOUT_MS = 1_000;
  const ctx = useTestApp({ env: { HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
  let spec: Spec;
  let ajv: Ajv;
  const call = callerFor(ctx);
  const schemas = () => spec.components.schemas;
  /** Whether the served spec's component accepts `value`, as a client validating against it would decide. */
  const specAccepts = (component: string, value: unknown) => ajv.validate({ $ref: `spec#/components/schemas/${component}` }, value);

  beforeAll(async () => {
    spec = (await ctx.t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    ajv = new Ajv({ strict: false });
    addFormats(ajv);
    ajv.addSchema(JSON.parse(JSON.stringify({ components: spec.components }).replaceAll('"#/components/', '"spec#/components/')), 'spec');
  });

  describe('unique items', () => {
    it('geo scopes are uniqueItems in every request that takes them, and a repeated one is 422 on its index', async () => {
      const [custom] = schemas().SubscriptionUpdateRequest!.oneOf as { properties: Record<string, { properties: Record<string, unknown> }> }[];
      expect(custom!.properties.customPlan!.properties.geoScope).toMatchObject({ type: 'array', uniqueItems: true });
      for (const component of ['PlanUpdateRequest', 'ProductCreateRequest', 'ProductUpdateRequest']) {
        expect((schemas()[component]!.properties as Record<string, unknown>).geoScope, component).toMatchObject({ uniqueItems: true });
      }
      const admin = await registerAdmin(ctx.t.app, ctx.db);
      const name = `Geo twice ${Date.now()}`;
      const product = { sku: `SKU-${Date.now()}`, name, priceNet: '10.00', vat: '20' };
      const refused = await call('POST', '/v1/products', admin.accessToken, { ...product, geoScope: ['TURKEY', 'EUROPE', 'TURKEY'] });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json().errors).toEqual([expect.objectContaining({ field: 'geoScope.2', code: 'DUPLICATE' })]);
      expect((await ctx.db.query('SELECT 1 FROM products WHERE name = $1', [name])).rowCount).toBe(0);
    });

    it('webhook event lists are uniqueItems; a repeated type is 422 on its index (not silently merged), on create and on patch', async () => {
      const list = schemas().WebhookEventList!;
      expect(list).toMatchObject({ type: 'array', uniqueItems: true });
      expect(specAccepts('WebhookEventList', ['invoice.paid', 'invoice.paid'])).toBe(false);
      const owner = await registerAndLogin(ctx.t.app);
      const twice = await call('POST', '/v1/webhooks/endpoints', owner.accessToken, {
        url: HOOK,
        events: ['invoice.paid', 'license.activated', 'invoice.paid'],
      });
      expect(twice.statusCode, twice.body).toBe(422);
      expect(twice.json().errors).toEqual([expect.objectContaining({ field: 'events.2', code: 'DUPLICATE', message: 'Listed more than once' })]);
      expect((await ctx.db.query('SELECT 1 FROM webhook_endpoints WHERE owner_id = $1', [owner.user.id])).rowCount).toBe(0);

      const created = await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: HOOK, events: ['invoice.paid'] });
      expect(created.statusCode, created.body).toBe(201);
      const patched = await call('PATCH', `/v1/webhooks/endpoints/${created.json().id}`, owner.accessToken, { events: ['ping', 'ping'] });
      expect(patched.statusCode).toBe(422);
      expect(patched.json().errors).toEqual([expect.objectContaining({ field: 'events.1', code: 'DUPLICATE' })]);
      expect((await ctx.db.query('SELECT events FROM webhook_endpoints WHERE id = $1', [created.json().id])).rows[0].events).toEqual(['invoice.paid']);
    });
  });

  it('"*" stands alone in an event list: oneOf ["*"] or specific types in the spec; beside others it is 422 on `events`', async () => {
    const list = schemas().WebhookEventList! as { oneOf: { items: { enum: string[] }; maxItems?: number }[] };
    expect(list.oneOf).toHaveLength(2);
    expect(list.oneOf[0]).toMatchObject({ items: { enum: ['*'] }, maxItems: 1 });
    expect(list.oneOf[1]!.items.enum).not.toContain('*');
    expect(specAccepts('WebhookEventList', ['*'])).toBe(true);
    expect(specAccepts('WebhookEventList', ['invoice.paid', 'ping'])).toBe(true);
    expect(specAccepts('WebhookEventList', ['*', 'invoice.paid'])).toBe(false);

    const owner = await registerAndLogin(ctx.t.app);
    const mixed = await call('POST', '/v1/webhooks/endpoints', owner.accessToken, { url: HOOK, events: ['invoice.paid', '*'] });
    expect(mixed.statusCode).toBe(422);
    expect(mixed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(mixed.json().errors).toEqual([{ field: 'events', code: 'WILDCARD_ALONE', message: '"*" stands alone: it already means every type' }]);
    expect((await ctx.db.query('SELECT 1 FROM webhook_endpoints WHERE owner_id = $1', [owner.user.id])).rowCount).toBe(0);
  });

  describe('oneOf for the either/or bodies', () => {
    it('2FA verify and disable take code or recoveryCode: oneOf in the spec; both or neither is 422 on `code`', async () => {
      const branches = (component: string) =>
        (schemas()[component]!.oneOf as { properties: object; required: string[]; additionalProperties: boolean }[]).map((branch) => ({
          properties: Object.keys(branch.properties).sort(),
          required: [...branch.required].sort(),
          additionalProperties: branch.additionalProperties,
        }));
      expect(branches('TwoFactorVerifyRequest')).toEqual([
        { properties: ['challenge', 'recoveryCode'], required: ['challenge', 'recoveryCode'], additionalProperties: false },
        { properties: ['challenge', 'code'], required: ['challenge', 'code'], additionalProperties: false },
      ]);
      expect(branches('TwoFactorDisableRequest')).toEqual([
        { properties: ['password', 'recoveryCode'], required: ['password', 'recoveryCode'], additionalProperties: false },
        { properties: ['code', 'password'], required: ['code', 'password'], additionalProperties: false },
      ]);
      expect(specAccepts('TwoFactorVerifyRequest', { challenge: 'c', code: '123456' })).toBe(true);
      expect(specAccepts('TwoFactorVerifyRequest', { challenge: 'c', recoveryCode: 'k7m2q-x9p4t' })).toBe(true);
      expect(specAccepts('TwoFactorVerifyRequest', { challenge: 'c', code: '123456', recoveryCode: 'k7m2q-x9p4t' })).toBe(false);
      expect(specAccepts('TwoFactorVerifyRequest', { challenge: 'c' })).toBe(false);

      for (const body of [{ challenge: 'c', code: '123456', recoveryCode: 'k7m2q-x9p4t' }, { challenge: 'c' }]) {
        const refused = await ctx.t.app.inject({ method: 'POST', url: '/v1/auth/2fa/verify', payload: body });
        expect(refused.statusCode, refused.body).toBe(422);
        expect(refused.json().errors).toEqual([{ field: 'code', code: 'ONE_FACTOR', message: 'Give either code or recoveryCode' }]);
      }
    });

    it('update-subscription takes planCode (or its deprecated alias planName) or customPlan: oneOf in the spec; both is 422 on the plan field', async () => {
      const branches = schemas().SubscriptionUpdateRequest!.oneOf as { required: string[]; properties: Record<string, { deprecated?: boolean }> }[];
      expect(branches.map((branch) => branch.required)).toEqual([['customPlan'], ['planCode'], ['planName']]);
      expect(branches[2]!.properties.planName!.deprecated).toBe(true);
      const body = { userId: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y', subscriberId: 'acc_01jh8x2v3kf6qz9w0c4m5t7r8y' };
      expect(specAccepts('SubscriptionUpdateRequest', { ...body, planCode: 'TRIAL' })).toBe(true);
      expect(specAccepts('SubscriptionUpdateRequest', { planCode: 'TRIAL' })).toBe(true);
      expect(specAccepts('SubscriptionUpdateRequest', { ...body, planName: 'TRIAL' })).toBe(true);
      expect(specAccepts('SubscriptionUpdateRequest', body)).toBe(false);
      const user = await registerAndLogin(ctx.t.app);
      const both = await call('POST', '/v1/accounts/update-subscription', user.accessToken, {
        userId: user.user.id,
        subscriberId: 'acc_01jh8x2v3kf6qz9w0c4m5t7r8y',
        planName: 'TRIAL',
        customPlan: {
          name: 'Both',
          duration: { unit: 'DAY', count: 1 },
          limitResetPeriod: 'NONE',
          geoScope: ['ALL'],
          limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 1 }],
        },
      });
      expect(both.statusCode, both.body).toBe(422);
      expect(both.json().errors).toEqual([{ field: 'planName', code: 'ONE_PLAN', message: 'Give either planCode or customPlan' }]);
    });
  });

  it('date-time ranges: from and to are date-times whose order the spec states; reversed, or a lone from after now, is 422 on `from`', async () => {
    const parameters = spec.paths['/v1/api-keys/{id}/usage']!.get!.parameters!;
    const from = parameters.find((parameter) => parameter.name === 'from')!;
    const to = parameters.find((parameter) => parameter.name === 'to')!;
    expect(from.schema).toMatchObject({ type: 'string', format: 'date-time' });
    expect(to.schema).toMatchObject({ type: 'string', format: 'date-time' });
    expect(JSON.stringify(from)).toMatch(/before `to`.*Between 1970 and 9999/);
    expect(JSON.stringify(to)).toMatch(/after `from`/);
    expect(schemas().LicenseUpdateRequest!.properties).toMatchObject({
      expiresAt: { format: 'date-time', description: expect.stringMatching(/between 1970 and 9999/) },
    });

    const user = await registerAndLogin(ctx.t.app);
    const key = (await call('POST', '/v1/api-keys', user.accessToken, { name: 'ranges', scope: 'read-only' })).json<{ id: string }>();
    const usage = (query: string) => call('GET', `/v1/api-keys/${key.id}/usage?${query}`, user.accessToken);
    const reversed = await usage('from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z');
    expect(reversed.statusCode).toBe(422);
    expect(reversed.json().errors).toEqual([expect.objectContaining({ field: 'from', message: 'from must be before to' })]);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const lone = await usage(`from=${encodeURIComponent(future)}`);
    expect(lone.statusCode, lone.body).toBe(422);
    expect(lone.json().errors).toEqual([expect.objectContaining({ field: 'from', code: 'INVALID_VALUE', message: 'from must be before to' })]);
    expect((await usage('')).statusCode).toBe(200);
  });

  it('DELETE /v1/api-keys/{id} says it revokes, and that the key stays readable with revokedAt', async () => {
    const operation = spec.paths['/v1/api-keys/{id}']!.delete!;
    expect(operation.description).toMatch(/Revokes, does not delete/);
    expect(operation.description).toMatch(/stays readable .* with `revokedAt` set/);
    expect(JSON.stringify(operation.responses['204'])).toMatch(/revokedAt/);
    const user = await registerAndLogin(ctx.t.app);
    const key = (await call('POST', '/v1/api-keys', user.accessToken, { name: 'revoked', scope: 'read-only' })).json<{ id: string }>();
    expect((await call('DELETE', `/v1/api-keys/${key.id}`, user.accessToken)).statusCode).toBe(204);
    const read = await call('GET', `/v1/api-keys/${key.id}`, user.accessToken);
    expect(read.statusCode).toBe(200);
    expect(read.json().revokedAt).toEqual(expect.any(String));
  });

  describe("the HTTP server's own refusals, before any route", () => {
    const listening = async () => {
      if (!ctx.t.app.getHttpServer().listening) await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
      return (ctx.t.app.getHttpServer().address() as { port: number }).port;
    };
    /** Sends raw bytes and reads the whole answer until the server closes the connection. */
    const raw = async (request: string) => {
      const port = await listening();
      return new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
        const socket = new Socket();
        let answer = '';
        const giveUp = setTimeout(() => reject(new Error(`no answer: ${answer}`)), 10_000);
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (answer += chunk));
        socket.on('error', () => undefined);
        socket.once('close', () => {
          clearTimeout(giveUp);
          const [head = '', body = ''] = answer.split('\r\n\r\n');
          const [statusLine = '', ...lines] = head.split('\r\n');
          const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
          resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
        });
        socket.connect(port, '127.0.0.1', () => socket.write(request));
      });
    };

    it('431 on the OIDC callback with a huge query: problem+json HEADERS_TOO_LARGE, as every operation documents', async () => {
      for (const [path, item] of Object.entries(spec.paths)) {
        for (const method of METHODS) {
          if (item[method]) expect(item[method].responses['431']?.['x-problem-codes'], `${method} ${path}`).toEqual(['HEADERS_TOO_LARGE']);
        }
      }
      const url = `/v1/auth/oidc/google/callback?code=${'a'.repeat(20_000)}&state=x`;
      const answer = await raw(`GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect(answer.status).toBe(431);
      expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      const problem = JSON.parse(answer.body);
      expect(problem).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE', title: 'Request headers too large', instance: `urn:uuid:${problem.requestId}` });
      expect(answer.headers['x-request-id']).toBe(problem.requestId);
      expect(new OpenApiContract().problems('GET', url, { statusCode: answer.status, headers: answer.headers, body: answer.body })).toEqual([]);
    });

    it('408 for a request not received in time: problem+json REQUEST_TIMEOUT', async () => {
      const answer = await raw('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: never-finished');
      expect(answer.status).toBe(408);
      expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(JSON.parse(answer.body)).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    });
  });
});
