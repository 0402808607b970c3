import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAccount } from '../factories/accounts';
import { isSkipped, readmeShellBlocks, ROOT } from '../helpers/readme';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { createTestDatabase, TEST_JWT_SECRET, type TestDatabase } from '../helpers/test-app';
import { freePort } from '../helpers/redis-server';

const section = readmeShellBlocks().filter((block) => block.section === 'Stripe in development');
const stripeCli = section.find((block) => block.code.includes('stripe listen'));
const startFake = section.find((block) => !isSkipped(block) && block.code.startsWith('npm run stripe:dev\n'));
const startServer = section.find((block) => isSkipped(block) && block.code.includes('npm start') && block.code.includes('STRIPE_API_BASE'));
const purchase = section.find((block) => !isSkipped(block) && block !== startFake);
const createAdmin = readmeShellBlocks().find((block) => block.section === 'Accounts and administration' && block.code.includes('npm run create-admin'));
const README_FAKE = 'http://127.0.0.1:12111';
const ADMIN_PASSWORD = 'a long admin passphrase';

/** `NAME=value` pairs of the STRIPE_ settings in a text. */
const settingsIn = (text: string) => Object.fromEntries([...text.matchAll(/\b(STRIPE_[A-Z_]+)=(\S+)/g)].map((match) => [match[1]!, match[2]!]));

/** A README block in bash, as the README test runs them: `set -e`, and curl fails on an error status. */
function run(code: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-c', `set -euo pipefail\ncurl() { command curl --silent --show-error --fail-with-body "$@"; }\n${code}`], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 60_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve({ code: exit, stdout, stderr });
    }),
  );
}

describe('Stripe in development (issue 22): `npm run stripe:dev` and the README commands take a product from checkout to a license', () => {
  let fakePort: number;
  let fake: ChildProcess;
  let fakeOutput = '';
  let database: TestDatabase;
  let server: ServerProcess;
  let origin: string;
  let db: Client;
  let keys: string;
  let env: NodeJS.ProcessEnv;
  const printed: Record<string, string> = {};

  beforeAll(async () => {
    // The README's own block, as a terminal of its own; only the port differs, as two runs may share a machine.
    fakePort = await freePort();
    fake = spawn('bash', ['-c', startFake!.code], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, STRIPE_DEV_PORT: String(fakePort) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    fake.stdout!.on('data', (chunk: Buffer) => (fakeOutput += chunk.toString()));
    fake.stderr!.on('data', (chunk: Buffer) => (fakeOutput += chunk.toString()));
    const started = Date.now();
    while (!fakeOutput.includes('STRIPE_WEBHOOK_SECRET=')) {
      if (Date.now() - started > 60_000 || fake.exitCode !== null) throw new Error(`npm run stripe:dev did not start:\n${fakeOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    Object.assign(printed, settingsIn(fakeOutput));

    // Gatehouse as `npm start` runs it (development), with the three settings the fake printed.
    [database, keys] = await Promise.all([createTestDatabase('stripedev'), mkdtemp(join(tmpdir(), 'gatehouse-stripe-dev-'))]);
    const port = await freePort();
    server = await startServerProcess(database.url, {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LICENSE_SIGNING_KEY_FILE: join(keys, 'license-key.pem'),
      DATA_ENCRYPTION_KEY_FILE: join(keys, 'data-encryption-key'),
      ...printed,
    });
    origin = server.url.replace(/^http:\/\//, '');
    db = new Client({ connectionString: database.url });
    await db.connect();
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: database.url,
      NEW_ADMIN_PASSWORD: ADMIN_PASSWORD,
      STRIPE_DEV_PORT: String(fakePort),
    };
  }, 120_000);

  afterAll(async () => {
    if (fake?.pid) process.kill(-fake.pid, 'SIGTERM');
    server?.child.kill('SIGTERM');
    await server?.exited;
    await db?.end();
    await database?.drop();
    await rm(keys, { recursive: true, force: true });
  });

  it('the section has both paths: the Stripe CLI one (skipped, needs an account) and the offline one', () => {
    expect(stripeCli?.code).toMatch(/^# not run by the README test: needs a Stripe account/);
    expect(stripeCli?.code).toContain('stripe listen --forward-to http://localhost:3000/v1/webhooks/stripe');
    expect(Object.keys(settingsIn(stripeCli!.code)).sort()).toEqual(['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']);
    expect(startFake && startServer && purchase && createAdmin).toBeTruthy();
  });

  it('`npm run stripe:dev` prints the three settings, and the README starts Gatehouse with exactly those', () => {
    expect(printed).toEqual({
      STRIPE_API_BASE: `http://127.0.0.1:${fakePort}`,
      STRIPE_SECRET_KEY: expect.stringMatching(/^sk_test_\w+$/),
      STRIPE_WEBHOOK_SECRET: expect.stringMatching(/^whsec_\w+$/),
    });
    expect(settingsIn(startServer!.code.replaceAll(README_FAKE, printed.STRIPE_API_BASE!))).toEqual(printed);
    // What the README shows it printing is what it prints.
    expect(settingsIn(startFake!.code.replaceAll(README_FAKE, printed.STRIPE_API_BASE!))).toEqual(printed);
  });

  it("runs the README's create-admin and purchase blocks as written: the order is PAID, its license exists, the event was applied", async () => {
    const admin = await run(createAdmin!.code, env);
    expect(admin.code, admin.stderr).toBe(0);
    const bought = await run(purchase!.code.replaceAll('localhost:3000', origin), env);
    expect(bought.code, `${bought.stdout}\n${bought.stderr}\n${server.output()}`).toBe(0);
    expect(bought.stdout).toMatch(new RegExp(`checkout\\.session\\.completed evt_test_\\w+ -> http://${origin}/v1/webhooks/stripe: 200 \\{"received":true\\}`));
    expect(bought.stdout).toMatch(/"status":"PAID"/);

    const orders = await db.query('SELECT id, status, stripe_session_id, stripe_payment_intent_id FROM orders');
    expect(orders.rows).toEqual([
      {
        id: expect.any(String),
        status: 'PAID',
        stripe_session_id: expect.stringMatching(/^cs_test_/),
        stripe_payment_intent_id: expect.stringMatching(/^pi_test_/),
      },
    ]);
    const licenses = await db.query('SELECT order_id, status FROM licenses');
    expect(licenses.rows).toEqual([{ order_id: orders.rows[0].id, status: 'ACTIVE' }]);
    expect(bought.stdout).toContain(`"orderId":"${orders.rows[0].id}"`);
    const events = await db.query('SELECT type, outcome FROM stripe_events');
    expect(events.rows).toEqual([{ type: 'checkout.session.completed', outcome: 'APPLIED' }]);

    // Sent again, it is the same event: stored once, nothing more granted.
    const again = await run(
      `npm run --silent stripe:dev -- send checkout.session.completed --session ${orders.rows[0].stripe_session_id} --forward-to http://${origin}/v1/webhooks/stripe`,
      env,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(bought.stdout.match(/evt_test_\w+/)![0]);
    expect((await db.query('SELECT count(*)::int AS n FROM licenses')).rows[0].n).toBe(1);
    expect((await db.query('SELECT count(*)::int AS n FROM stripe_events')).rows[0].n).toBe(1);
  });

  it('in development the paid presets carry the fake test prices, so a subscription checkout works out of the box and send activates it', async () => {
    const plans: any = await (await fetch(`${server.url}/v1/subscriptions/plans`)).json();
    expect(Object.fromEntries(plans.items.map((plan: { code: string; stripePriceId: string | null }) => [plan.code, plan.stripePriceId]))).toEqual({
      NONE: null,
      TRIAL: null,
      ENTRY_MONTHLY: 'price_devEntryMonthly',
      ENTRY_YEARLY: 'price_devEntryYearly',
      PREMIUM_MONTHLY: 'price_devPremiumMonthly',
      PREMIUM_YEARLY: 'price_devPremiumYearly',
    });
    const login = await fetch(`${server.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: ADMIN_PASSWORD }),
    });
    const token = ((await login.json()) as any).accessToken.token as string;
    // A subscription is an account's: the ADMIN gets an ACTIVE one, as activation by mail would give it.
    const [{ id: adminId }] = (await db.query("SELECT id FROM users WHERE email = 'admin@example.com'")).rows;
    await insertAccount(db, { userId: adminId, status: 'ACTIVE' });
    const checkout = await fetch(`${server.url}/v1/subscriptions/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ planCode: 'ENTRY_MONTHLY', successUrl: `${server.url}/`, cancelUrl: `${server.url}/` }),
    });
    expect(checkout.status, await checkout.clone().text()).toBe(201);
    const session: any = await checkout.json();

    const sent = await run(
      `npm run --silent stripe:dev -- send checkout.session.completed --session ${session.id} --forward-to ${server.url}/v1/webhooks/stripe`,
      env,
    );
    expect(sent.code, sent.stderr).toBe(0);
    const me = await (await fetch(`${server.url}/v1/subscriptions/me`, { headers: { authorization: `Bearer ${token}` } })).json();
    expect(me).toMatchObject({ plan: 'ENTRY_MONTHLY', status: 'ACTIVE' });
    const stored = await db.query("SELECT outcome FROM stripe_events WHERE payload->'data'->'object'->>'id' = $1", [session.id]);
    expect(stored.rows).toEqual([{ outcome: 'APPLIED' }]);
  });

  it('send refuses a session the fake never made, and says why, with nothing sent', async () => {
    const before = (await db.query('SELECT count(*)::int AS n FROM stripe_events')).rows[0].n;
    const sent = await run(
      `npm run --silent stripe:dev -- send checkout.session.completed --session cs_test_unknown --forward-to ${server.url}/v1/webhooks/stripe`,
      env,
    );
    expect(sent.code).toBe(1);
    expect(sent.stderr).toContain('No open or paid checkout.session cs_test_unknown made by this fake Stripe');
    const wrongType = await run(`npm run --silent stripe:dev -- send invoice.paid --session cs_test_unknown`, env);
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toContain('type must be one of checkout.session.completed');
    expect((await db.query('SELECT count(*)::int AS n FROM stripe_events')).rows[0].n).toBe(before);
  });
});
