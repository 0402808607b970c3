import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { FakeStripe, STRIPE_TEST_SECRET_KEY, STRIPE_TEST_WEBHOOK_SECRET } from '../test/helpers/fake-stripe';
import { linkIn, Mailbox } from '../test/helpers/mailbox';
import { TestOidcProvider } from '../test/helpers/oidc-provider';
import { OpenApiContract } from '../test/helpers/openapi-contract';

/**
 * Contract and fuzz tests from the spec: Portman turns openapi/openapi.json into a Postman
 * collection (contract tests per operation, fuzzing variations per request body and query), and
 * newman runs it with an admin token against the server started here on a fresh database. Every
 * response is also checked by the checker the e2e tests use: a 5xx, an undocumented status or a
 * body that breaks its schema fails the run, whatever Portman's own assertions say.
 *
 * `TEST_DATABASE_URL` (a server the tests may create databases on) is used when set, else an
 * embedded PostgreSQL in a temporary directory. Nothing is fetched from the network.
 */

const ROOT = resolve(__dirname, '..');
const ADMIN = { email: 'contract-admin@example.com', password: `contract-${randomBytes(12).toString('hex')}` };
// One client makes every request; the limits are not under test here.
const UNLIMITED = Object.fromEntries(
  ['PUBLIC', 'AUTHENTICATED', 'LOGIN', 'REGISTER', 'PASSWORD_RESET_REQUEST', 'LICENSE_VALIDATE', 'LICENSE_ACTIVATE', 'LICENSE_DEACTIVATE', 'TWO_FACTOR'].map(
    (name) => [`RATE_LIMIT_${name}`, '1000000/60'],
  ),
);

interface Cleanup {
  (): Promise<void> | void;
}
const cleanups: Cleanup[] = [];
const mailbox = new Mailbox();

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** A fresh database on TEST_DATABASE_URL's server, or the settings for an embedded one. */
async function database(dir: string): Promise<Record<string, string>> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { DATABASE_URL: '', EMBEDDED_POSTGRES_DIR: join(dir, 'pg') };
  const name = `gatehouse_contract_test_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { DATABASE_URL: url.toString() };
}

/** The callback the app names to its OIDC provider, under the PUBLIC_BASE_URL startServer sets. */
const oidcCallback = (port: number) => `http://localhost:${port}/v1/auth/oidc/contract/callback`;

async function startServer(dir: string, port: number, oidc: TestOidcProvider): Promise<string> {
  // Checkout talks to a local stand-in for Stripe, never to Stripe.
  const stripe = new FakeStripe();
  const stripeUrl = await stripe.start();
  cleanups.push(() => stripe.stop());
  // Mails go to an in-process SMTP server, so seeding can follow an activation link.
  const smtpUrl = await mailbox.start();
  cleanups.push(() => mailbox.stop());
  const env = {
    ...process.env,
    ...(await database(dir)),
    ...UNLIMITED,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    // Named, so the OIDC callback registered below matches it (unset, it would follow HOST: 127.0.0.1).
    PUBLIC_BASE_URL: `http://localhost:${port}`,
    LOG_LEVEL: 'error',
    JWT_SECRET: randomBytes(32).toString('hex'),
    COOKIE_SECURE: 'false',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOGIN_FAILURE_LIMIT: '1000000/60',
    LICENSE_SIGNING_KEY_FILE: join(dir, 'license-signing-key.pem'),
    DATA_ENCRYPTION_KEY_FILE: join(dir, 'data-encryption-key'),
    WEBHOOK_ATTEMPT_TIMEOUT_MS: '3000',
    STRIPE_SECRET_KEY: STRIPE_TEST_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: STRIPE_TEST_WEBHOOK_SECRET,
    STRIPE_API_BASE: stripeUrl,
    SMTP_URL: smtpUrl,
    // The spec's examples link to this origin.
    ALLOWED_LINK_ORIGINS: 'https://app.example.com',
    // A local provider named "contract", to link an identity while seeding. The generated requests
    // name the spec's example provider, "authentik", which is not configured: they answer 404.
    ...oidc.env('contract'),
  };
  const server: ChildProcess = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  server.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  cleanups.push(
    () =>
      new Promise<void>((done) => {
        if (server.exitCode !== null) return done();
        server.once('exit', () => done());
        server.kill('SIGTERM');
      }),
  );
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 240; attempt++) {
    if (server.exitCode !== null) throw new Error(`the server exited (${server.exitCode}):\n${log}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return url;
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`the server did not become ready:\n${log}`);
}

async function api<T = { id: string }>(url: string, method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`seeding: ${method} ${path} -> ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

async function mailTo(address: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const mail = mailbox.to(address).at(-1);
    if (mail) return mail;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`seeding: no mail reached ${address}`);
}

interface Login {
  accessToken: { token: string };
}

/** What the generated requests need to reach their success answers: ids and tokens, made through the API. */
async function seed(url: string, oidc: TestOidcProvider): Promise<Record<string, string>> {
  const adminToken = (await api<Login>(url, 'POST', '/v1/auth/login', undefined, ADMIN)).accessToken.token;
  const admin = (await api<{ user: { id: string } }>(url, 'GET', '/v1/users/me', adminToken)).user;
  const product = await api(url, 'POST', '/v1/products', adminToken, {
    sku: `CT-${randomBytes(3).toString('hex')}`,
    name: 'Contract test product',
    priceNet: '10.00',
    vat: '20.00',
    stock: 1000,
    maxActivations: 1000,
  });
  const target = { email: `contract-target-${randomBytes(3).toString('hex')}@example.com`, password: ADMIN.password };
  const registered = await api<{ user: { id: string } }>(url, 'POST', '/v1/auth/register', undefined, {
    ...target,
    firstName: 'Target',
    lastName: 'User',
    language: 'en',
    locale: 'en-GB',
    timezone: 'Europe/London',
  });
  const license = await api<{ id: string; key: string }>(url, 'POST', '/v1/licenses', adminToken, { productId: product.id, userId: admin.id });
  // GET /v1/orders/{id} reads an order of its own, whatever order the generated requests run in.
  const checkout = await api<{ orderId: string }>(url, 'POST', '/v1/checkout/sessions', adminToken, {
    items: [{ productId: product.id, quantity: 1 }],
    successUrl: 'https://app.example.com/paid',
    cancelUrl: 'https://app.example.com/cancelled',
  });
  const apiKey = await api(url, 'POST', '/v1/api-keys', adminToken, { name: 'contract test', scope: 'read-only' });
  // What the generated DELETEs remove, so the other operations keep their own.
  const doomedProduct = await api(url, 'POST', '/v1/products', adminToken, {
    sku: `CT-${randomBytes(3).toString('hex')}`,
    name: 'Deleted by the run',
    priceNet: '1.00',
    vat: '0.00',
  });
  const doomedKey = await api(url, 'POST', '/v1/api-keys', adminToken, { name: 'revoked by the run', scope: 'read-only' });
  // GET /v1/accounts/me needs the account; the generated request then updates it while PENDING.
  const { account } = await api<{ account: { id: string } }>(url, 'POST', '/v1/accounts/account-activation-request', adminToken, {
    userId: admin.id,
    accountType: 'INDIVIDUAL',
    mobilePhone: '+905321234567',
    address: '1 Contract Street',
    activationPageLink: 'https://app.example.com/activate',
  });
  // Subscriptions need an ACTIVE account: a customer who followed the mailed activation link, on a
  // plan an ADMIN assigned (so cancel has something to cancel), and a plan with a Stripe price.
  const customer = { email: `contract-customer-${randomBytes(3).toString('hex')}@example.com`, password: ADMIN.password };
  const subscriber = await api<{ user: { id: string } }>(url, 'POST', '/v1/auth/register', undefined, {
    ...customer,
    firstName: 'Customer',
    lastName: 'User',
    language: 'en',
    locale: 'en-GB',
    timezone: 'Europe/London',
  });
  const subscriberToken = (await api<Login>(url, 'POST', '/v1/auth/login', undefined, customer)).accessToken.token;
  const pending = await api<{ account: { id: string } }>(url, 'POST', '/v1/accounts/account-activation-request', subscriberToken, {
    userId: subscriber.user.id,
    accountType: 'INDIVIDUAL',
    mobilePhone: '+905321234568',
    address: '2 Contract Street',
    activationPageLink: 'https://app.example.com/activate',
  });
  const link = linkIn(await mailTo(customer.email));
  await api(url, 'POST', '/v1/accounts/activate-account', subscriberToken, {
    userId: subscriber.user.id,
    accountId: pending.account.id,
    emailVerificationToken: link.searchParams.get('emailVerificationToken'),
  });
  await api(url, 'PATCH', '/v1/subscriptions/plans/ENTRY_MONTHLY', adminToken, { stripePriceId: 'price_ContractEntryMonthly' });
  await api(url, 'POST', '/v1/accounts/update-subscription', adminToken, {
    userId: subscriber.user.id,
    subscriberId: pending.account.id,
    planCode: 'ENTRY_YEARLY',
  });
  // Outbound webhooks: an endpoint to read and change, one to delete, and a delivery (a test ping,
  // which fails fast: nothing resolves hooks.example.com here).
  const hook = { url: 'https://hooks.example.com/gatehouse', events: ['*'] };
  const endpoint = await api<{ id: string }>(url, 'POST', '/v1/webhooks/endpoints', adminToken, hook);
  const doomedEndpoint = await api<{ id: string }>(url, 'POST', '/v1/webhooks/endpoints', adminToken, hook);
  const delivery = await api<{ id: string }>(url, 'POST', `/v1/webhooks/endpoints/${endpoint.id}/test`, adminToken);
  // Logging out ends a session: the generated logout uses one of its own.
  const logoutToken = (await api<Login>(url, 'POST', '/v1/auth/login', undefined, ADMIN)).accessToken.token;
  const refreshToken = (await api<Login & { refreshToken: { token: string } }>(url, 'POST', '/v1/auth/login', undefined, ADMIN)).refreshToken.token;
  const identityId = await linkIdentity(url, oidc, adminToken);
  return {
    bearerToken: adminToken,
    adminId: admin.id,
    targetUserId: registered.user.id,
    productId: product.id,
    licenseId: license.id,
    licenseKey: license.key,
    orderId: checkout.orderId,
    apiKeyId: apiKey.id,
    deleteProductId: doomedProduct.id,
    deleteApiKeyId: doomedKey.id,
    webhookEndpointId: endpoint.id,
    deleteWebhookEndpointId: doomedEndpoint.id,
    webhookDeliveryId: delivery.id,
    logoutToken,
    refreshToken,
    accountId: account.id,
    subscriberId: subscriber.user.id,
    subscriberAccountId: pending.account.id,
    subscriberToken,
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    deleteUserIdentityId: identityId,
  };
}

/**
 * An identity the generated DELETE unlinks: the admin signs in at the local provider, with its
 * email verified there, so the callback links it to the admin (who keeps its password).
 */
async function linkIdentity(url: string, oidc: TestOidcProvider, adminToken: string): Promise<string> {
  const authorize = await fetch(`${url}/v1/auth/oidc/contract/authorize?redirect=${encodeURIComponent('https://app.example.com/signed-in')}`, {
    redirect: 'manual',
  });
  const stateCookie = authorize.headers.getSetCookie()[0]?.split(';')[0];
  const location = authorize.headers.get('location');
  if (authorize.status !== 302 || !stateCookie || !location) throw new Error(`seeding: OIDC authorize -> ${authorize.status} ${await authorize.text()}`);
  const callback = await oidc.authorize(location, { sub: 'contract-admin', email: ADMIN.email, email_verified: true });
  const signedIn = await fetch(`${url}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: stateCookie } });
  if (signedIn.headers.get('location') !== 'https://app.example.com/signed-in')
    throw new Error(`seeding: OIDC callback -> ${signedIn.headers.get('location')}`);
  const { items } = await api<{ items: Array<{ id: string }> }>(url, 'GET', '/v1/users/me/identities', adminToken);
  return items[0]!.id;
}

interface NewmanSummary {
  run: {
    stats: { requests: { total: number }; assertions: { total: number; failed: number } };
    failures: { error: { test?: string; message: string }; source?: { name?: string } }[];
  };
}
interface NewmanRequestEvent {
  item: { name: string };
  request: { method: string; url: { getPathWithQuery(): string } };
  response?: { code: number; headers: { toObject(): Record<string, string> }; stream?: Buffer };
}

/** The last answer to each named request, shown next to its failed assertions. */
const answers = new Map<string, string>();
let checked = 0;

function runNewman(collectionPath: string, variables: Record<string, string>, contract: OpenApiContract, violations: string[]): Promise<NewmanSummary> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- newman ships no types
  const newman = require('newman') as {
    run(
      options: object,
      done: (error: Error | null, summary: NewmanSummary) => void,
    ): { on(event: string, handler: (error: Error | null, event: NewmanRequestEvent) => void): void };
  };
  return new Promise((done, fail) => {
    const run = newman.run(
      {
        collection: JSON.parse(readFileSync(collectionPath, 'utf8')) as object,
        envVar: Object.entries(variables).map(([key, value]) => ({ key, value })),
        reporters: ['cli'],
        reporter: { cli: { noSummary: true, noFailures: true, noAssertions: false } },
        timeoutRequest: 15_000,
      },
      (error, summary) => (error ? fail(error) : done(summary)),
    );
    run.on('request', (error, event) => {
      if (error || !event.response) {
        violations.push(`${event.request.method} ${event.request.url.getPathWithQuery()}: no response (${error?.message ?? 'none'})`);
        return;
      }
      const { method } = event.request;
      const path = event.request.url.getPathWithQuery();
      const response = { statusCode: event.response.code, headers: event.response.headers.toObject(), body: event.response.stream?.toString('utf8') ?? '' };
      answers.set(event.item.name, `${method} ${path} -> ${response.statusCode} ${response.body.slice(0, 400)}`);
      if (contract.find(method, path)) checked += 1;
      if (response.statusCode >= 500) violations.push(`${method} ${path} -> ${response.statusCode}: ${response.body.slice(0, 300)}`);
      else for (const problem of contract.problems(method, path, response)) violations.push(`${method} ${path} -> ${response.statusCode}: ${problem}`);
    });
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-contract-'));
  // As root, embedded Postgres runs as the postgres user, which must reach its data directory.
  chmodSync(dir, 0o755);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

  const port = await freePort();
  const oidc = await TestOidcProvider.start(oidcCallback(port));
  cleanups.push(() => oidc.close());
  const url = await startServer(dir, port, oidc);
  const variables = { baseUrl: url, ...(await seed(url, oidc)) };
  const collection = join(dir, 'collection.json');
  // -l: the local spec; --syncPostman false: nothing is uploaded. Portman writes ./tmp, so it runs in ours.
  const portman = require.resolve('@apideck/portman/bin/portman');
  const args = [
    '-l',
    join(ROOT, 'openapi/openapi.json'),
    '-o',
    collection,
    '-c',
    join(ROOT, 'portman-config.json'),
    '-b',
    '{{baseUrl}}',
    '--syncPostman',
    'false',
  ];
  execFileSync(process.execPath, [portman, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });

  const violations: string[] = [];
  const summary = await runNewman(collection, variables, new OpenApiContract(), violations);
  const { requests, assertions } = summary.run.stats;
  for (const { error, source } of summary.run.failures) {
    const name = source?.name ?? '?';
    process.stdout.write(`failed: ${name}: ${error.test ?? ''}: ${error.message.replace(/\s+/g, ' ').slice(0, 300)}\n  answer: ${answers.get(name) ?? ''}\n`);
  }
  for (const violation of violations) process.stdout.write(`spec violation: ${violation}\n`);
  process.stdout.write(
    `contract tests: ${requests.total} requests, ${assertions.total - assertions.failed}/${assertions.total} assertions passed, ` +
      `${checked} responses checked against the spec, ${violations.length} spec violations, ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  return assertions.failed === 0 && violations.length === 0 && checked > 0 ? 0 : 1;
}

void main()
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  })
  .then(async (code) => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    process.exit(code);
  });
