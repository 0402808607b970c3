import { beforeAll, describe, expect, it } from 'vitest';
import { GatehouseClient, RateLimitError } from '../../packages/sdk/src/index';
import { insertApiKey } from '../factories/api-keys';
import { insertProduct } from '../factories/products';
import { totpCode } from '../factories/two-factor';
import { registerAdmin, TEST_PASSWORD } from '../factories/users';
import { subscriber, updateSubscription } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

/** The SDK methods added to cover the whole spec (issue 22, section 7), against the real app over HTTP. */
describe('@gatehouse/sdk: the integration endpoint, 2FA, identities, health and problem types', () => {
  const ctx = useTestApp();
  let baseUrl: string;
  let admin: Awaited<ReturnType<typeof registerAdmin>>;
  beforeAll(async () => {
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await ctx.t.app.getUrl();
    admin = await registerAdmin(ctx.t.app, ctx.db);
  });

  it('integration.getAll() answers the catalog in the integration format, counts against the plan, and over quota throws a RateLimitError with the quota members', async () => {
    const product = await insertProduct(ctx.db, { name: `SDK getAll ${Date.now()}` });
    const user = await subscriber(ctx.t.app, ctx.db);
    const assigned = await updateSubscription(ctx.t.app, admin.accessToken, {
      userId: user.user.id,
      customPlan: {
        name: 'One getAll',
        duration: { unit: 'MONTH', count: 12 },
        limitResetPeriod: 'MONTHLY',
        geoScope: ['ALL'],
        limits: [{ apiVersion: 'v1', endpoint: 'integration.products.getAll', maxCalls: 1 }],
      },
    });
    expect(assigned.statusCode, assigned.body).toBe(200);
    const client = new GatehouseClient({ baseUrl, apiKey: (await insertApiKey(ctx.db, { ownerId: user.user.id })).key });

    const products = await client.integration.getAll();
    expect(products).toContainEqual(expect.objectContaining({ Id: product.id, Name: product.name, Sku: product.sku }));
    const spent = await client.integration.getAll().catch((error: unknown) => error);
    expect(spent).toBeInstanceOf(RateLimitError);
    expect(spent).toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED' });
    expect((spent as RateLimitError).problem).toMatchObject({
      limit: 1,
      apiVersion: 'v1',
      endpoint: 'integration.products.getAll',
      resetsAt: expect.any(String),
    });
    const { rows } = await ctx.db.query('SELECT used FROM quota_counters WHERE user_id = $1', [user.user.id]);
    expect(rows).toEqual([{ used: 1 }]);
  });

  it('auth.integrationLogin() keeps the tokens as login() does; 2FA is set up, confirmed, used and switched off through the SDK', async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const client = new GatehouseClient({ baseUrl });
    const answer = await client.auth.integrationLogin({ email: user.input.email, password: TEST_PASSWORD });
    expect(answer).toMatchObject({ requiredAuthenticatorType: null, user: { id: user.user.id, twoFactorEnabled: false } });
    expect((await client.users.me()).user.id).toBe(user.user.id);

    const { secret } = await client.auth.setupTotp({ password: TEST_PASSWORD });
    const { recoveryCodes } = await client.auth.confirmTotp({ password: TEST_PASSWORD, code: totpCode(secret) });
    expect(recoveryCodes).toHaveLength(10);
    const challenged = await client.auth.login({ email: user.input.email, password: TEST_PASSWORD });
    if (!('challenge' in challenged)) throw new Error('expected a two-factor challenge');
    expect(challenged.requiredAuthenticatorType).toBe('TOTP');
    await client.auth.verifyTwoFactor({ challenge: challenged.challenge.token, code: totpCode(secret, 1) });
    expect((await client.users.me()).user.twoFactorEnabled).toBe(true);

    await client.auth.disableTwoFactor({ password: TEST_PASSWORD, recoveryCode: recoveryCodes[0]! });
    expect((await client.users.me()).user.twoFactorEnabled).toBe(false);
    const { rows } = await ctx.db.query('SELECT 1 FROM totp_credentials WHERE user_id = $1', [user.user.id]);
    expect(rows).toEqual([]);
  });

  it("users.resetTwoFactor() (ADMIN) switches a user's 2FA off; users.identities() lists none for a password user", async () => {
    const user = await subscriber(ctx.t.app, ctx.db);
    const own = new GatehouseClient({ baseUrl });
    await own.auth.login({ email: user.input.email, password: TEST_PASSWORD });
    const { secret } = await own.auth.setupTotp({ password: TEST_PASSWORD });
    await own.auth.confirmTotp({ password: TEST_PASSWORD, code: totpCode(secret) });
    expect(await own.users.identities()).toEqual({ items: [] });

    const asAdmin = new GatehouseClient({ baseUrl, accessToken: admin.accessToken });
    await asAdmin.users.resetTwoFactor(user.user.id);
    expect((await own.users.me()).user.twoFactorEnabled).toBe(false);
  });

  it('health.live(), health.ready(), problems.get() and problems.getIntegration() read the open routes', async () => {
    const client = new GatehouseClient({ baseUrl });
    expect(await client.health.live()).toMatchObject({ status: expect.any(String) });
    expect(await client.health.ready()).toMatchObject({ status: expect.any(String) });
    expect(await client.problems.get('validation-failed')).toMatchObject({ code: 'VALIDATION_FAILED', status: 422 });
    expect(await client.problems.getIntegration('validation')).toMatchObject({ status: 400, title: 'Validation error(s)' });
  });
});
