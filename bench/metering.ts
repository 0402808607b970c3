/**
 * `npm run bench:metering`: what metering costs on its two hot paths, each paired with the same
 * call with metering off, in turns (A B A B A B) on one app:
 * - POST /v1/access/verify for a PREMIUM customer's key (plan lookup, rate limit, the atomic quota
 *   increment) against the same check for an ADMIN's key (not metered: no quota step);
 * - GET /api/integration/products/getAll with a PREMIUM customer's key (metered) against an ADMIN's
 *   key (never metered).
 * Numbers are recorded in bench/README.md.
 */
import autocannon from 'autocannon';
import { Client } from 'pg';
import { BenchApp, startBenchApp } from './bench-app';
import { PlansRepository } from '../src/modules/subscriptions/plans.repository';
import { insertApiKey } from '../test/factories/api-keys';
import { insertUser } from '../test/factories/users';
import { putOnPlan } from '../test/factories/subscriptions';

const LIFTED = '100000000/60';

async function main() {
  const { app, url, databaseUrl, stop } = await startBenchApp({ RATE_LIMIT_AUTHENTICATED: LIFTED, RATE_LIMIT_ACCESS_VERIFY: LIFTED });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();

  const admin = await insertUser(db, { role: 'ADMIN', status: 'ACTIVE' });
  const vendorKey = (await insertApiKey(db, { ownerId: admin.id, scope: 'verify' })).key;
  // Admin scope: a lesser key of an ADMIN acts as a USER, and is metered.
  const adminCustomerKey = (await insertApiKey(db, { ownerId: admin.id, scope: 'admin' })).key;
  const customerKey = await premiumCustomer(app, db);

  const duration = Number(process.env.BENCH_SECONDS ?? 10);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const verify = (key: string) => ({
    url: `${url}/v1/access/verify`,
    method: 'POST' as const,
    headers: { authorization: `Bearer ${vendorKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key, apiVersion: 'v1', endpoint: 'orders.create', ip: '203.0.113.7' }),
  });
  const getAll = (key: string) => ({ url: `${url}/api/integration/products/getAll`, method: 'GET' as const, headers: { authorization: `Bearer ${key}` } });
  const pairs = [
    { name: 'POST /v1/access/verify', metered: verify(customerKey), unmetered: verify(adminCustomerKey) },
    { name: 'GET getAll', metered: getAll(customerKey), unmetered: getAll(adminCustomerKey) },
  ];
  for (const pair of pairs) {
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const on = await run(pair.metered, duration);
      const off = await run(pair.unmetered, duration);
      ratios.push(on.rps / off.rps);
      process.stdout.write(`${pair.name} round ${round}: metered ${format(on)} | metering off ${format(off)} | ratio ${(on.rps / off.rps).toFixed(2)}\n`);
    }
    ratios.sort((a, b) => a - b);
    process.stdout.write(`${pair.name}: median ratio metered/off ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}\n`);
  }
  await db.end();
  await stop();
}

/** A customer on PREMIUM_MONTHLY (its per-minute rate lifted out of the way) with a read-only key. */
async function premiumCustomer(app: BenchApp['app'], db: Client): Promise<string> {
  await app.get(PlansRepository).updatePreset('PREMIUM_MONTHLY', { rateLimitCount: 100_000_000, rateLimitWindowSeconds: 60 });
  const user = await insertUser(db, { status: 'ACTIVE' });
  await putOnPlan(app, db, user.id, 'PREMIUM_MONTHLY');
  return (await insertApiKey(db, { ownerId: user.id, scope: 'read-only' })).key;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function run(request: { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }, duration: number): Promise<Result> {
  // Load is generated in a worker thread, not on the event loop the app serves from.
  const result = await autocannon({ ...request, connections: 20, workers: 1, duration });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
}

const format = (result: Result) => `${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}`;

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
