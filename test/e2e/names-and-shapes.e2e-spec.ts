import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insertApiKey } from '../factories/api-keys';
import { enableTotp, loginForChallenge, totpCode } from '../factories/two-factor';
import { registerAndLogin, TEST_PASSWORD } from '../factories/users';
import { callerFor } from '../helpers/http';
import { changesOf, subscriber, updateSubscription } from '../helpers/subscriptions';
import { useAdmin } from '../helpers/signed-in';
import { useTestApp } from '../helpers/test-app';

const json = { 'content-type': 'application/json' };

/** Names and shapes a user notices (issue 22, section 6). */
describe('names and shapes: planCode, self-service ids, one user shape', () => {
  // A small access-check limit, to see its 429; nothing else here calls that route.
  const ctx = useTestApp({ env: { RATE_LIMIT_ACCESS_VERIFY: '2/60' } });
  const admin = useAdmin(ctx);
  const call = callerFor(ctx);
  const update = (token: string, body: unknown) => updateSubscription(ctx.t.app, token, body);
  const spec = JSON.parse(readFileSync(join(__dirname, '../../openapi/openapi.json'), 'utf8'));

  describe('one name for a plan: planCode', () => {
    it('a customer picks a preset by planCode with no ids: its own account changes, and every answer names the code planCode', async () => {
      const user = await subscriber(ctx.t.app, ctx.db);
      const changed = await update(user.accessToken, { planCode: 'TRIAL' });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json()).toMatchObject({ accountId: user.accountId, userId: user.user.id, planCode: 'TRIAL', plan: 'TRIAL', planName: 'Trial' });
      const { history, events } = await changesOf(ctx.db, user.accountId);
      expect(history).toEqual([expect.objectContaining({ account_id: user.accountId, plan_code: 'TRIAL', source: 'USER', actor_user_id: user.user.id })]);
      expect(events).toEqual([expect.objectContaining({ previousPlanCode: 'NONE', planCode: 'TRIAL', previousPlan: 'NONE', plan: 'TRIAL' })]);

      expect((await call('GET', '/v1/subscriptions/me', user.accessToken)).json()).toMatchObject({ planCode: 'TRIAL', plan: 'TRIAL' });
      const usage = await call('GET', `/v1/subscriptions/${user.accountId}/usage`, admin().accessToken);
      expect(usage.json()).toMatchObject({ planCode: 'TRIAL', plan: 'TRIAL' });
      const byCode = await call('GET', '/v1/subscriptions?planCode=TRIAL&limit=100', admin().accessToken);
      const byAlias = await call('GET', '/v1/subscriptions?plan=TRIAL&limit=100', admin().accessToken);
      expect(byCode.statusCode, byCode.body).toBe(200);
      expect(byCode.json().items.map((item: { accountId: string }) => item.accountId)).toContain(user.accountId);
      expect(byAlias.json()).toEqual(byCode.json());
      const conflicting = await call('GET', '/v1/subscriptions?planCode=TRIAL&plan=NONE', admin().accessToken);
      expect(conflicting.statusCode).toBe(422);
      expect(conflicting.json().errors).toEqual([expect.objectContaining({ field: 'plan', code: 'ALIAS_CONFLICT' })]);
    });

    it('the deprecated planName still means the code; with the same planCode it is accepted, with a different one 422 on planName and nothing written', async () => {
      const legacy = await subscriber(ctx.t.app, ctx.db);
      const viaAlias = await update(legacy.accessToken, { userId: legacy.user.id, subscriberId: legacy.accountId, planName: 'TRIAL' });
      expect(viaAlias.statusCode, viaAlias.body).toBe(200);
      expect(viaAlias.json().planCode).toBe('TRIAL');

      const agreeing = await subscriber(ctx.t.app, ctx.db);
      const both = await update(agreeing.accessToken, { planCode: 'TRIAL', planName: 'TRIAL' });
      expect(both.statusCode, both.body).toBe(200);
      expect(both.json().planCode).toBe('TRIAL');

      const user = await subscriber(ctx.t.app, ctx.db);
      const conflicting = await update(user.accessToken, { planCode: 'TRIAL', planName: 'NONE' });
      expect(conflicting.statusCode).toBe(422);
      expect(conflicting.json().errors).toEqual([
        {
          field: 'planName',
          code: 'ALIAS_CONFLICT',
          message: 'planName is the deprecated name of planCode (and plan, in a query): give one, or the same value in both',
        },
      ]);
      expect(await changesOf(ctx.db, user.accountId)).toEqual({ history: [], events: [] });
    });

    it('webhook event schemas name the code planCode too, and mark plan and previousPlan deprecated', async () => {
      const user = await registerAndLogin(ctx.t.app);
      const items = (await call('GET', '/v1/webhooks/event-types', user.accessToken)).json().items as {
        type: string;
        schema: { properties: Record<string, { deprecated?: boolean }>; required: string[] };
      }[];
      for (const type of ['subscription.changed', 'customer.subscription.updated', 'subscription.quota.warning', 'subscription.quota.exceeded']) {
        const { schema } = items.find((item) => item.type === type)!;
        expect(schema.required, type).toContain('planCode');
        expect(schema.properties.plan!.deprecated, type).toBe(true);
      }
      const changed = items.find((item) => item.type === 'subscription.changed')!.schema;
      expect(changed.required).toContain('previousPlanCode');
      expect(changed.properties.previousPlan!.deprecated).toBe(true);
    });

    it('the spec marks each alias deprecated and names the code planCode in requests and answers', () => {
      const schemas = spec.components.schemas;
      const branches = schemas.SubscriptionUpdateRequest.oneOf as { properties: Record<string, { deprecated?: boolean }> }[];
      expect(branches.find((branch) => 'planName' in branch.properties)!.properties.planName!.deprecated).toBe(true);
      expect(branches.find((branch) => 'planCode' in branch.properties)!.properties.planCode!.deprecated).toBeUndefined();
      expect(schemas.SubscriptionCheckoutCreateRequest.required).toContain('planCode');
      for (const name of ['Subscription', 'MySubscription', 'SubscriptionUsage', 'AccessDecision']) {
        expect(schemas[name].required, name).toContain('planCode');
        expect(schemas[name].properties.plan.deprecated, name).toBe(true);
      }
      const query = spec.paths['/v1/subscriptions'].get.parameters as { name: string; deprecated?: boolean }[];
      expect(query.find((parameter) => parameter.name === 'plan')!.deprecated).toBe(true);
      expect(query.find((parameter) => parameter.name === 'planCode')!.deprecated).toBeUndefined();
    });
  });

  describe('self-service needs no ids', () => {
    it('a customer naming another user is still 403 FORBIDDEN and changes nothing', async () => {
      const caller = await subscriber(ctx.t.app, ctx.db);
      const victim = await subscriber(ctx.t.app, ctx.db);
      const refused = await update(caller.accessToken, { userId: victim.user.id, planCode: 'TRIAL' });
      expect([refused.statusCode, refused.json().code]).toEqual([403, 'FORBIDDEN']);
      expect(await changesOf(ctx.db, victim.accountId)).toEqual({ history: [], events: [] });
      expect(await changesOf(ctx.db, caller.accountId)).toEqual({ history: [], events: [] });
    });

    it("an ADMIN names the user alone and the change lands on that user's account; a subscriberId that is not that user's is 404", async () => {
      const user = await subscriber(ctx.t.app, ctx.db);
      const other = await subscriber(ctx.t.app, ctx.db);
      const changed = await update(admin().accessToken, { userId: user.user.id, planCode: 'PREMIUM_MONTHLY' });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json()).toMatchObject({ accountId: user.accountId, userId: user.user.id, planCode: 'PREMIUM_MONTHLY' });
      expect((await changesOf(ctx.db, user.accountId)).history).toEqual([expect.objectContaining({ source: 'ADMIN', actor_user_id: admin().user.id })]);

      const mismatch = await update(user.accessToken, { subscriberId: other.accountId, planCode: 'TRIAL' });
      expect([mismatch.statusCode, mismatch.json().code]).toEqual([404, 'NOT_FOUND']);
      expect(await changesOf(ctx.db, other.accountId)).toEqual({ history: [], events: [] });
    });

    it('a caller without an account gets 404 when it names none', async () => {
      const user = await registerAndLogin(ctx.t.app);
      const response = await update(user.accessToken, { planCode: 'TRIAL' });
      expect([response.statusCode, response.json().code]).toEqual([404, 'NOT_FOUND']);
    });

    it('the spec requires no userId, subscriberId or accountId on self-service bodies', () => {
      const schemas = spec.components.schemas;
      for (const branch of schemas.SubscriptionUpdateRequest.oneOf as { required: string[] }[]) {
        expect(branch.required).not.toContain('userId');
        expect(branch.required).not.toContain('subscriberId');
      }
      for (const name of ['AccountActivationRequest', 'PhoneActivationRequest', 'ActivatePhoneRequest', 'UserUpdateRequest']) {
        expect(schemas[name].required ?? [], name).not.toContain('userId');
        expect(schemas[name].required ?? [], name).not.toContain('accountId');
      }
    });
  });

  describe('one user shape: the login answer and GET /v1/users/me', () => {
    const me = async (token: string) => (await call('GET', '/v1/users/me', token)).json().user;
    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
      ctx.t.app.inject({ method: 'POST', url, headers: { ...json, ...headers }, payload: JSON.stringify(payload) });

    it('password login (bearer and cookie), the integration login and refresh answer the same user as /v1/users/me', async () => {
      const user = await registerAndLogin(ctx.t.app, { middleName: 'King' });
      const login = await post('/v1/auth/login', { email: user.input.email, password: TEST_PASSWORD });
      const current = await me(login.json().accessToken.token);
      expect(current).toMatchObject({ id: user.user.id, name: 'Ada King Lovelace', twoFactorEnabled: false, emailVerifiedAt: null });
      expect(login.json().user).toEqual(current);

      const cookie = login.cookies.find((entry) => entry.name === 'gatehouse_auth')!.value;
      const viaCookie = await ctx.t.app.inject({ method: 'GET', url: '/v1/users/me', headers: { cookie: `gatehouse_auth=${cookie}` } });
      expect(viaCookie.json().user).toEqual(current);

      const integration = await post('/auth/login', { email: user.input.email, password: TEST_PASSWORD });
      expect(integration.json().user).toEqual(current);
      const refreshed = await post('/v1/auth/refresh', { refreshToken: login.json().refreshToken.token });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      expect(refreshed.json().user).toEqual(current);
    });

    it('the two-factor verify answer and a refresh after it carry twoFactorEnabled: true, as /v1/users/me does', async () => {
      const user = await registerAndLogin(ctx.t.app);
      const { secret } = await enableTotp(ctx.t.app, user.accessToken);
      const challenge = await loginForChallenge(ctx.t.app, user.input.email, TEST_PASSWORD);
      const verified = await post('/v1/auth/2fa/verify', { challenge, code: totpCode(secret, 1) });
      expect(verified.statusCode, verified.body).toBe(200);
      const current = await me(verified.json().accessToken.token);
      expect(current.twoFactorEnabled).toBe(true);
      expect(verified.json().user).toEqual(current);
      const refreshed = await post('/v1/auth/refresh', { refreshToken: verified.json().refreshToken.token });
      expect(refreshed.json().user).toEqual(current);
    });

    it('the spec publishes one schema for both: Session.user and CurrentUserResponse.user are CurrentUser', () => {
      const schemas = spec.components.schemas;
      expect(schemas.Session.properties.user).toEqual({ $ref: '#/components/schemas/CurrentUser' });
      expect(schemas.CurrentUserResponse.properties.user).toEqual({ $ref: '#/components/schemas/CurrentUser' });
    });
  });

  it('POST /v1/access/verify answers a spent quota with 200 QUOTA_EXCEEDED and its quota; its only 429 is its own rate limit, with retryAfter and limit', async () => {
    const verifyKey = (await insertApiKey(ctx.db, { ownerId: admin().user.id, scope: 'verify' })).key;
    const customer = await subscriber(ctx.t.app, ctx.db);
    const customPlan = {
      name: 'One check',
      duration: { unit: 'MONTH', count: 12 },
      limitResetPeriod: 'MONTHLY',
      geoScope: ['ALL'],
      limits: [{ apiVersion: 'v1', endpoint: 'orders.create', maxCalls: 1 }],
    };
    expect((await update(admin().accessToken, { userId: customer.user.id, customPlan })).statusCode).toBe(200);
    const customerKey = (await insertApiKey(ctx.db, { ownerId: customer.user.id })).key;
    const verify = () => call('POST', '/v1/access/verify', verifyKey, { key: customerKey, apiVersion: 'v1', endpoint: 'orders.create' });

    expect((await verify()).json()).toMatchObject({ allowed: true, code: 'ALLOWED' });
    const spent = await verify();
    expect(spent.statusCode).toBe(200);
    expect(spent.json()).toMatchObject({
      allowed: false,
      code: 'QUOTA_EXCEEDED',
      planCode: 'CUSTOM',
      quota: { limit: 1, remaining: 0, resetsAt: expect.any(String) },
    });
    const limited = await verify();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', limit: 2, retryAfter: expect.any(Number) });
    expect(limited.headers['retry-after']).toBe(String(limited.json().retryAfter));
  });

  it('the integration problem publishes the quota members the README promises: limit, apiVersion, endpoint, resetsAt', () => {
    const members = spec.components.schemas.IntegrationProblem.properties;
    for (const name of ['limit', 'apiVersion', 'endpoint', 'resetsAt', 'retryAfter']) expect(members[name], name).toBeDefined();
    const examples = spec.paths['/api/integration/products/getAll'].get.responses['429'].content['application/problem+json'].examples;
    expect(examples.QUOTA_EXCEEDED.value).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 1000, apiVersion: 'v1', endpoint: '*', resetsAt: expect.any(String) });
  });
});
