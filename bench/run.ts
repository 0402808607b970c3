/**
 * `npm run bench`: the built app (`node dist/main.js`, NODE_ENV=production) against the bare
 * reference (bench/reference/server.ts) on the same database and seed, in turns (A B A B A B),
 * one at a time. Writes bench/results/latest.json (BENCH_RESULTS) and prints a markdown table.
 * See bench/README.md for what each scenario does and the latest numbers.
 *
 * Environment: DATABASE_URL (a server on which a scratch database is created and dropped; default:
 * an embedded Postgres in a temporary directory), BENCH_SCENARIOS (comma list of names, default
 * all), BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50),
 * BENCH_LICENSES (100000), BENCH_SKIP_BUILD (1: use dist/ as it is), BENCH_APP_NODE_ARGS (flags for the
 * app's `node`, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_REFERENCE_NODE_ARGS (the same for the
 * reference, to profile both sides of a pair).
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { migrate, seed, SeedData } from './seed';
import { ServerProcess, startServer } from './server-process';
import { outboundDeliveries, stripeIngestion } from './throughput';

const ROOT = resolve(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const LICENSES = Number(process.env.BENCH_LICENSES ?? 100_000);
const RESULTS = resolve(ROOT, process.env.BENCH_RESULTS ?? 'bench/results/latest.json');
const ONLY = process.env.BENCH_SCENARIOS?.split(',').map((name) => name.trim());
const LIFTED = '1000000000/60';
/** Extra `node` flags for the app, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it under load. */
const APP_NODE_ARGS = process.env.BENCH_APP_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
/** The node flags of the start command (package.json's start:prod): the app runs here as it is deployed. */
const START_FLAGS = startCommandFlags();
const REFERENCE_NODE_ARGS = process.env.BENCH_REFERENCE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

/** One side's numbers for one timed run. */
export interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpuMicrosPerRequest: number;
  peakRssMb: number;
  /** Every request of the run, warm-up included: what a CPU profile of the server saw (bench/pipeline-stages.ts). */
  served: number;
}

interface PairedScenario {
  name: string;
  title: string;
  target: { ratio: number; p99Ratio?: number; cpuRatio?: number };
  request: (data: SeedData) => autocannon.Request;
  headers?: (data: SeedData) => Record<string, string>;
  path: string;
  method: 'GET' | 'POST';
}

const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;
const json = { 'content-type': 'application/json' };

const PAIRED: PairedScenario[] = [
  {
    name: 'validate-valid',
    title: 'POST /v1/licenses/validate, VALID, random key of the seeded licenses',
    target: { ratio: 0.85, p99Ratio: 1.5, cpuRatio: 1.25 },
    method: 'POST',
    path: '/v1/licenses/validate',
    request: (data) => ({ setupRequest: (request) => ({ ...request, body: JSON.stringify({ key: pick(data.licenseKeys) }) }) }),
  },
  {
    name: 'validate-not-found',
    title: 'POST /v1/licenses/validate, NOT_FOUND',
    target: { ratio: 0.85, p99Ratio: 1.5, cpuRatio: 1.25 },
    method: 'POST',
    path: '/v1/licenses/validate',
    request: (data) => ({ setupRequest: (request) => ({ ...request, body: JSON.stringify({ key: pick(data.unknownLicenseKeys) }) }) }),
  },
  {
    name: 'access-verify',
    title: 'POST /v1/access/verify, ALLOWED, random customer key of the seeded API keys',
    target: { ratio: 0.8 },
    method: 'POST',
    path: '/v1/access/verify',
    headers: (data) => ({ authorization: `Bearer ${data.vendorKey}` }),
    request: (data) => ({
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ key: pick(data.customerKeys), apiVersion: 'v1', endpoint: 'orders.create' }) }),
    }),
  },
  {
    name: 'products-get-all',
    title: 'GET /api/integration/products/getAll (100 products), metered API key',
    target: { ratio: 0.8 },
    method: 'GET',
    path: '/api/integration/products/getAll',
    request: (data) => ({ setupRequest: (request) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${pick(data.customerKeys)}` } }) }),
  },
  {
    name: 'login',
    title: 'POST /v1/auth/login (argon2id 19 MiB, t=2, p=1)',
    target: { ratio: 0.9 },
    method: 'POST',
    path: '/v1/auth/login',
    request: (data) => ({ setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: pick(data.loginEmails), password: data.password }) }) }),
  },
];

const selected = (name: string) => !ONLY || ONLY.includes(name);

async function main() {
  Logger.overrideLogger(['error']);
  const started = Date.now();
  if (process.env.BENCH_SKIP_BUILD !== '1') execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

  const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const database = await openBenchDatabase(scratch);
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    LICENSE_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('hex')}`,
  };
  const appEnv: Record<string, string> = {
    ...secrets,
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: 'https://bench.example.com',
    SMTP_URL: 'smtp://127.0.0.1:1',
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'bench-token-0123456789',
    TWILIO_FROM: '+15005550006',
    STRIPE_SECRET_KEY: 'sk_test_bench',
    // Rate limits stay in the pipeline (the memory store is consulted on every call) but out of the way.
    ...Object.fromEntries(
      ['PUBLIC', 'AUTHENTICATED', 'LOGIN', 'LICENSE_VALIDATE', 'LICENSE_ACTIVATE', 'ACCESS_VERIFY'].map((policy) => [`RATE_LIMIT_${policy}`, LIFTED]),
    ),
    LOGIN_FAILURE_LIMIT: LIFTED,
    // Login measures argon2 throughput against the reference, whose verifications run on libuv's
    // pool (4 threads, UV_THREADPOOL_SIZE's default) with no cap: the app gets the same 4 (more than
    // its CPUs − 1 default, which keeps a core for the event loop), and queues every connection
    // instead of refusing past its flood cap (issue 20).
    PASSWORD_HASH_CONCURRENCY: '4',
    PASSWORD_HASH_QUEUE: String(CONNECTIONS),
    // The outbound scenario delivers to a receiver on loopback over http.
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOKS_ALLOW_INSECURE: 'true',
    WEBHOOKS_UNSAFE_IN_PRODUCTION: 'i-understand',
  };

  // Only the paired scenarios read the seed; Stripe, outbound delivery and start-up need a migrated database.
  const pairs = PAIRED.filter((candidate) => selected(candidate.name));
  let data: SeedData | undefined;
  if (pairs.length > 0) {
    process.stdout.write(`seeding ${LICENSES} licenses, 1000 API keys, 100 products…\n`);
    data = await seed(database.url, { licenses: LICENSES, secrets: appEnv });
  } else await migrate(database.url, appEnv);
  const logDir = join(scratch, 'logs');
  mkdirSync(logDir);

  const results: Record<string, unknown> = {};
  const paired: PairResult[] = [];
  let app: ServerProcess | undefined;
  let reference: ServerProcess | undefined;
  try {
    app = await startServer('app', [...START_FLAGS, ...APP_NODE_ARGS, 'dist/main.js'], appEnv, join(logDir, 'app.log'));
    if (data) {
      reference = await startServer(
        'reference',
        [...REFERENCE_NODE_ARGS, compileReference()],
        { DATABASE_URL: database.url, LICENSE_SIGNING_KEY: secrets.LICENSE_SIGNING_KEY, JWT_SECRET: secrets.JWT_SECRET },
        join(logDir, 'reference.log'),
      );
      for (const scenario of pairs) paired.push(await runPair(scenario, data, app, reference));
      await reference.stop();
      reference = undefined;
    }
    if (selected('stripe-ingestion')) results.stripeIngestion = await stripeIngestion(app, secrets.STRIPE_WEBHOOK_SECRET, SECONDS, CONNECTIONS, WARMUP);
    if (selected('outbound-delivery')) results.outboundDelivery = await outboundDeliveries(app, database.url, secrets.DATA_ENCRYPTION_KEY, WARMUP > 0);
    await app.stop();
    app = undefined;
    if (selected('startup')) results.startup = await startupTimes(appEnv, logDir);
  } finally {
    await app?.stop();
    await reference?.stop();
    await database.drop();
    if (process.env.BENCH_KEEP_LOGS === '1') process.stdout.write(`logs kept in ${logDir}\n`);
    else rmSync(scratch, { recursive: true, force: true });
  }

  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: database.kind },
    settings: {
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      rounds: ROUNDS,
      connections: CONNECTIONS,
      licenses: data ? LICENSES : 0,
      apiKeys: data?.customerKeys.length ?? 0,
    },
    durationSeconds: Math.round((Date.now() - started) / 1000),
    paired,
    ...results,
  };
  mkdirSync(resolve(RESULTS, '..'), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${markdown(report)}\nwritten to ${RESULTS} in ${report.durationSeconds} s\n`);
  const failures = paired
    .flatMap((pair) => pair.runs)
    .filter((run) => run.app.errors > 0 || run.app.non2xx > 0 || run.reference.errors > 0 || run.reference.non2xx > 0);
  if (failures.length > 0) throw new Error(`${failures.length} runs had errors or non-2xx answers; see the table`);
}

interface PairResult {
  name: string;
  title: string;
  target: PairedScenario['target'];
  runs: { app: Measurement; reference: Measurement; ratio: number; p99Ratio: number; cpuRatio: number }[];
  medianRatio: number;
  medianP99Ratio: number;
  medianCpuRatio: number;
  appPeakRssMb: number;
}

async function runPair(scenario: PairedScenario, data: SeedData, app: ServerProcess, reference: ServerProcess): Promise<PairResult> {
  const runs: PairResult['runs'] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await settle(app, reference);
    const onApp = await measure(app, scenario, data);
    await settle(app, reference);
    const onReference = await measure(reference, scenario, data);
    const run = {
      app: onApp,
      reference: onReference,
      ratio: onApp.rps / onReference.rps,
      p99Ratio: onApp.p99 / Math.max(onReference.p99, 1),
      cpuRatio: onApp.cpuMicrosPerRequest / Math.max(onReference.cpuMicrosPerRequest, 1),
    };
    runs.push(run);
    process.stdout.write(`${scenario.name} round ${round}: app ${format(onApp)} | reference ${format(onReference)} | ratio ${run.ratio.toFixed(2)}\n`);
  }
  return {
    name: scenario.name,
    title: scenario.title,
    target: scenario.target,
    runs,
    medianRatio: median(runs.map((run) => run.ratio)),
    medianP99Ratio: median(runs.map((run) => run.p99Ratio)),
    medianCpuRatio: median(runs.map((run) => run.cpuRatio)),
    appPeakRssMb: Math.max(...runs.map((run) => run.app.peakRssMb)),
  };
}

/** A warm-up, then a timed run with the server's CPU time and RSS read from /proc. */
async function measure(server: ServerProcess, scenario: PairedScenario, data: SeedData): Promise<Measurement> {
  const options = {
    url: `${server.url}${scenario.path}`,
    method: scenario.method,
    headers: { ...json, ...scenario.headers?.(data) },
    requests: [scenario.request(data)],
    connections: CONNECTIONS,
  };
  const warmup = WARMUP > 0 ? await autocannon({ ...options, duration: WARMUP }) : undefined;
  // Work the warm-up's connections left queued in the server (a login waiting for a hashing slot
  // goes on after its client has gone) must not be charged to the timed run, nor refuse its calls.
  await settle(server);
  const cpuBefore = server.cpuMicros();
  let peakRss = server.rssMb();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, server.rssMb())), 200);
  const result = await autocannon({ ...options, duration: SECONDS });
  clearInterval(sampler);
  const requests = result.requests.total;
  return {
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuMicrosPerRequest: requests > 0 ? Math.round((server.cpuMicros() - cpuBefore) / requests) : 0,
    peakRssMb: Math.max(peakRss, server.rssMb()),
    served: requests + (warmup?.requests.total ?? 0),
  };
}

/**
 * Waits until the servers are idle: under 5 ms of CPU each in 100 ms (at most 20 s). Each run starts
 * on quiet servers, so neither side of a pair pays for the other's leftovers.
 */
async function settle(...servers: ServerProcess[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  const used = () => servers.reduce((sum, server) => sum + server.cpuMicros(), 0);
  let before = used();
  while (Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 100));
    const now = used();
    if (now - before < 5_000 * servers.length) return;
    before = now;
  }
}

/**
 * `node dist/main.js` on the migrated, seeded database until /health/ready answers 200: a first
 * start (on Node >= 22.1 with an empty module compile cache), then three restarts.
 */
async function startupTimes(env: Record<string, string>, logDir: string) {
  const cacheDir = join(logDir, 'code-cache');
  const startOnce = async (run: string, keepMs: number) => {
    const started = Date.now();
    const server = await startServer('app', [...START_FLAGS, 'dist/main.js'], { ...env, NODE_COMPILE_CACHE: cacheDir }, join(logDir, `startup-${run}.log`), {
      readyPath: '/health/ready',
      pollMs: 10,
    });
    const readyMs = Date.now() - started;
    await new Promise((done) => setTimeout(done, keepMs));
    await server.stop();
    return readyMs;
  };
  const coldReadyMs = await startOnce('cold', 2_000);
  const times: number[] = [];
  for (let run = 0; run < 3; run++) times.push(await startOnce(String(run), 0));
  return { coldReadyMs, readyMs: times, medianReadyMs: median(times), target: { maxMs: 1_200 } };
}

/** The reference, compiled to plain JavaScript: it runs on bare `node`, as the built app does. */
function compileReference(): string {
  // Inside the repository, so that its imports resolve from node_modules.
  const outDir = join(ROOT, '.data', 'bench-reference');
  execFileSync(
    process.execPath,
    [
      require.resolve('typescript/bin/tsc'),
      'bench/reference/server.ts',
      '--outDir',
      outDir,
      '--rootDir',
      '.',
      '--module',
      'commonjs',
      '--target',
      'es2022',
      '--esModuleInterop',
      '--skipLibCheck',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  return join(outDir, 'bench/reference/server.js');
}

async function openBenchDatabase(scratch: string): Promise<{ url: string; kind: string; drop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const name = `gatehouse_bench_${process.pid}`;
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      kind: `PostgreSQL ${version} (DATABASE_URL)`,
      drop: async () => {
        const client = new Client({ connectionString: process.env.DATABASE_URL });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const dir = join(scratch, 'pg');
  mkdirSync(dir, { mode: 0o755 });
  // As root, Postgres runs as the postgres user, which must reach the data directory.
  execFileSync('chmod', ['755', scratch]);
  const embedded = await startEmbeddedPostgres({ dir, port: 0, database: 'gatehouse' });
  return { url: embedded.url, kind: 'embedded PostgreSQL 17', drop: () => embedded.stop() };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

const format = (m: Measurement) =>
  `${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ${m.cpuMicrosPerRequest} µs CPU/req, RSS ${m.peakRssMb} MB, non-2xx ${m.non2xx}, errors ${m.errors}`;

/** The README table: one row per target. */
export function markdown(report: {
  date: string;
  paired: PairResult[];
  stripeIngestion?: { eventsPerSecond: number; errors: number; non2xx: number };
  outboundDelivery?: { deliveriesPerSecond: number; delivered: number; cpuMicrosPerDelivery: number; firstDeliveryAfterMs: number };
  startup?: { medianReadyMs: number; coldReadyMs: number };
}): string {
  const range = (values: number[], digits = 0) => {
    const low = Math.min(...values).toFixed(digits);
    const high = Math.max(...values).toFixed(digits);
    return low === high ? low : `${low}–${high}`;
  };
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const lines = [
    '| scenario | app req/s | reference req/s | app p50 / p99 ms | reference p50 / p99 ms | app / reference CPU µs per request | ratio per round | median | target |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const pair of report.paired) {
    const apps = pair.runs.map((run) => run.app);
    const refs = pair.runs.map((run) => run.reference);
    const p99Note = pair.target.p99Ratio
      ? `; p99 ${pair.medianP99Ratio.toFixed(2)}× (≤ ${pair.target.p99Ratio}×: ${verdict(pair.medianP99Ratio <= pair.target.p99Ratio)})`
      : '';
    const cpuNote = pair.target.cpuRatio
      ? `; CPU ${pair.medianCpuRatio.toFixed(2)}× (≤ ${pair.target.cpuRatio}×: ${verdict(pair.medianCpuRatio <= pair.target.cpuRatio)})`
      : '';
    lines.push(
      `| ${pair.title} | ${range(apps.map((m) => m.rps))} | ${range(refs.map((m) => m.rps))} | ${range(apps.map((m) => m.p50))} / ${range(apps.map((m) => m.p99))} | ` +
        `${range(refs.map((m) => m.p50))} / ${range(refs.map((m) => m.p99))} | ${range(apps.map((m) => m.cpuMicrosPerRequest))} / ${range(refs.map((m) => m.cpuMicrosPerRequest))} | ` +
        `${pair.runs.map((run) => run.ratio.toFixed(2)).join(', ')} | **${pair.medianRatio.toFixed(2)}** | ≥ ${pair.target.ratio}: ${verdict(pair.medianRatio >= pair.target.ratio)}${p99Note}${cpuNote} |`,
    );
  }
  const validate = report.paired.find((pair) => pair.name === 'validate-valid');
  const extra = ['', '| measure | result | target |', '|---|---|---|'];
  if (report.stripeIngestion) {
    const s = report.stripeIngestion;
    extra.push(
      `| Stripe webhook ingestion (signed, 10% duplicates) | ${Math.round(s.eventsPerSecond)} events/s, ${s.errors + s.non2xx} errors | ≥ 1,500 events/s, no errors: ${verdict(s.eventsPerSecond >= 1500 && s.errors + s.non2xx === 0)} |`,
    );
  }
  if (report.outboundDelivery) {
    const o = report.outboundDelivery;
    extra.push(
      `| outbound delivery to a local receiver | ${Math.round(o.deliveriesPerSecond)} deliveries/s (${o.delivered} delivered, the first after ${o.firstDeliveryAfterMs} ms), ${o.cpuMicrosPerDelivery} µs CPU per delivery | ≥ 1,000/s: ${verdict(o.deliveriesPerSecond >= 1000)} |`,
    );
  }
  if (validate)
    extra.push(`| peak RSS of the app under the validate scenario | ${validate.appPeakRssMb} MB | ≤ 150 MB: ${verdict(validate.appPeakRssMb <= 150)} |`);
  if (report.startup)
    extra.push(
      `| \`node dist/main.js\` to \`/health/ready\`, migrated database | ${report.startup.medianReadyMs} ms (median of 3 restarts; the first start: ${report.startup.coldReadyMs} ms) | ≤ 1,200 ms: ${verdict(report.startup.medianReadyMs <= 1200)} |`,
    );
  return [`Measured ${report.date}`, '', ...lines, ...(extra.length > 3 ? extra : [])].join('\n');
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
      process.exit(1);
    },
  );
}

function startCommandFlags(): string[] {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const match = /\bnode((?: --\S+)*) dist\/main\.js\b/.exec(scripts['start:prod'] ?? '');
  if (!match) throw new Error("bench: package.json's start:prod does not run `node [flags] dist/main.js`");
  return match[1]!.split(' ').filter(Boolean);
}
