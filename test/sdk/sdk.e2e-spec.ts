import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateError,
  GatehouseClient,
  isGatehouseError,
  NotFoundError,
  ValidationError,
  verifyWebhook,
  WebhookVerificationError,
} from '../../packages/sdk/src/index';
import { WebhookDispatcher } from '../../src/modules/webhooks/webhook-dispatcher';
import { unique } from '../factories/db';
import { insertAccount } from '../factories/accounts';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { userInput } from '../factories/users';
import { useTestApp } from '../helpers/test-app';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const newUser = () => ({ ...userInput(), language: 'en' as const });

/** The SDK against the real app on its own test database, over real HTTP (issue 14, done-means 1). */
describe('@gatehouse/sdk against the real app', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  const ctx = useTestApp({ env: { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } });
  let baseUrl: string;
  /** Every request the SDK sent, as `METHOD path`. */
  const sent: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    sent.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    return fetch(input, init);
  };
  let client: GatehouseClient;
  let userId: string;

  beforeAll(async () => {
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await ctx.t.app.getUrl();
    client = new GatehouseClient({ baseUrl, fetch: countingFetch });
  });
  afterAll(() => receiver.close());

  it('registers, logs in and keeps the access token for later calls', async () => {
    const input = newUser();
    const { user } = await client.auth.register(input);
    expect(user).toMatchObject({ email: input.email, status: 'INACTIVE' });
    userId = user.id;
    // As if the mailed activation link had been followed.
    await ctx.db.query("UPDATE users SET status = 'ACTIVE' WHERE id = $1", [user.id]);

    const session = await client.auth.login({ email: input.email, password: input.password });
    // No two-factor login here: the answer is a session, not a challenge.
    expect(session.requiredAuthenticatorType).toBeNull();
    expect('user' in session && session.user.id).toBe(user.id);
    const me = await client.users.me();
    expect(me.user).toMatchObject({ id: user.id, email: input.email });
  });

  it('creates an API key, and a client holding only that key is that user', async () => {
    const created = await client.apiKeys.create({ name: `sdk-${unique()}`, scope: 'read-write' });
    expect(created.key).toMatch(/^gate_live_/);
    const rows = await ctx.db.query('SELECT id FROM api_keys WHERE owner_id = $1', [userId]);
    expect(rows.rows.map((row) => row.id)).toEqual([created.id]);

    const keyed = new GatehouseClient({ baseUrl, apiKey: created.key });
    expect((await keyed.users.me()).user.id).toBe(userId);
  });

  it('listAll walks every page of products, cursor by cursor', async () => {
    const tag = `sdk${unique()}`;
    const ids = new Set<string>();
    for (let i = 0; i < 23; i++) ids.add((await insertProduct(ctx.db, { name: `${tag} product ${i}` })).id);
    await insertProduct(ctx.db, { name: 'Not in the search' });

    const before = sent.length;
    const seen: string[] = [];
    for await (const product of client.products.listAll({ search: tag, limit: 10 })) seen.push(product.id);
    expect(new Set(seen)).toEqual(ids);
    expect(seen).toHaveLength(23);
    expect(sent.slice(before)).toEqual(['GET /v1/products', 'GET /v1/products', 'GET /v1/products']);
  });

  it('activates and validates a license, verifies its certificate offline against the cached JWKS, and rejects a forged one', async () => {
    const product = await insertProduct(ctx.db, { maxActivations: 2 });
    const license = await insertLicense(ctx.db, { userId, productId: product.id });
    const fingerprint = `machine-${unique()}`;

    const activated = await client.licenses.activate({ key: license.key, fingerprint, name: 'Build box' });
    expect(activated.activation).toMatchObject({ fingerprint });
    expect((await ctx.db.query('SELECT fingerprint FROM activations WHERE license_id = $1', [license.id])).rows).toEqual([{ fingerprint }]);

    const validation = await client.licenses.validate({ key: license.key, fingerprint });
    expect(validation).toMatchObject({ valid: true, code: 'VALID' });
    const certificate = validation.certificate!;

    const jwksBefore = sent.filter((request) => request === 'GET /v1/licenses/jwks').length;
    const claims = await client.licenses.verifyCertificate(certificate, { fingerprint });
    expect(claims).toMatchObject({ sub: license.id, product: product.id, status: 'ACTIVE', fingerprint });
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
    await client.licenses.verifyCertificate(certificate);
    expect(sent.filter((request) => request === 'GET /v1/licenses/jwks').length - jwksBefore).toBe(1);

    const [header, payload, signature] = certificate.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'lic_someone_else' })).toString('base64url');
    await expect(client.licenses.verifyCertificate(`${header}.${forgedPayload}.${signature}`)).rejects.toBeInstanceOf(CertificateError);
    await expect(client.licenses.verifyCertificate(certificate, { fingerprint: 'another-machine' })).rejects.toBeInstanceOf(CertificateError);
    await expect(client.licenses.verifyCertificate(certificate, { currentDate: new Date((claims.exp + 60) * 1000) })).rejects.toBeInstanceOf(CertificateError);
    expect(payload).toBeDefined();
  });

  it('verifies a webhook the app delivered (both signature schemes), and throws on a changed body or a stale timestamp', async () => {
    const endpoint = await client.webhooks.endpoints.create({ url: `${receiver.baseUrl}/sdk`, events: ['license.activated'] });
    const license = await insertLicense(ctx.db, { userId });
    await client.licenses.activate({ key: license.key, fingerprint: `machine-${unique()}` });
    await ctx.t.app.get(WebhookDispatcher).tick();

    // The previous test's activation (same owner) is delivered by this tick too.
    const delivered = receiver.requests.filter((request) => request.path === '/sdk' && request.body.includes(license.id));
    expect(delivered).toHaveLength(1);
    const { body, headers } = delivered[0]!;
    const event = await verifyWebhook(body, headers, endpoint.secret);
    expect(event).toMatchObject({ object: 'event', type: 'license.activated', data: { object: { licenseId: license.id, userId } } });
    expect(event.id).toBe(headers['webhook-id']);
    // A fetch Headers object works as well as Node's header record.
    await expect(verifyWebhook(new TextEncoder().encode(body), new Headers(headers as Record<string, string>), endpoint.secret)).resolves.toEqual(event);

    await expect(verifyWebhook(body.replace(license.id, 'lic_other'), headers, endpoint.secret)).rejects.toBeInstanceOf(WebhookVerificationError);
    await expect(verifyWebhook(body, headers, 'whsec_' + Buffer.from('another secret').toString('base64'))).rejects.toBeInstanceOf(WebhookVerificationError);
    await expect(verifyWebhook(body, headers, endpoint.secret, { now: new Date(Date.now() + 6 * 60_000) })).rejects.toThrow(/tolerance/);
    // Each scheme is checked: a valid Standard Webhooks signature does not excuse a missing X-License-Signature.
    const { 'x-license-signature': _, ...withoutLicenseSignature } = headers;
    await expect(verifyWebhook(body, withoutLicenseSignature, endpoint.secret)).rejects.toThrow(/X-License-Signature/);
  });

  it('turns problem+json answers into typed errors with status, code, requestId and per-field errors, in the client language', async () => {
    const missing = await client.products.get('prd_01jh8x2v3kf6qz9w0c4m5t7r8y').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((missing as NotFoundError).requestId).toBeTruthy();
    expect(isGatehouseError(missing, 'NOT_FOUND')).toBe(true);
    expect(isGatehouseError(missing, 'VALIDATION_FAILED')).toBe(false);

    const turkish = new GatehouseClient({ baseUrl, language: 'tr' });
    const invalid = await turkish.auth.register({ ...newUser(), email: 'not-an-email' }).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toMatchObject({ status: 422, code: 'VALIDATION_FAILED' });
    expect((invalid as ValidationError).errors.map((error) => error.field)).toContain('email');
    const english = await client.auth.register({ ...newUser(), email: 'not-an-email' }).catch((error: unknown) => error);
    expect((invalid as ValidationError).title).not.toBe((english as ValidationError).title);
  });

  it('issue 22: activates an account with the mailed token alone, from a client with no credential', async () => {
    const account = await insertAccount(ctx.db);
    const anonymous = new GatehouseClient({ baseUrl, fetch: countingFetch });
    const activated = await anonymous.accounts.activate({ emailVerificationToken: account.emailToken });
    expect(activated.account).toMatchObject({ id: account.id, status: 'ACTIVE', emailVerified: true });
    const again = await anonymous.accounts.activate({ emailVerificationToken: account.emailToken }).catch((error: unknown) => error);
    expect(again).toMatchObject({ status: 409, code: 'ACCOUNT_ALREADY_ACTIVE' });
  });

  it('logs out: the session ends on the server and the client forgets its tokens', async () => {
    await client.auth.logout();
    const anonymous = await client.users.me().catch((error: unknown) => error);
    expect(anonymous).toMatchObject({ status: 401 });
  });
});
