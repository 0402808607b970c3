import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApiKey } from '../factories/api-keys';
import { insertProduct } from '../factories/products';
import { freeTierOnConfiguredRateLimit } from '../factories/subscriptions';
import { insertUser } from '../factories/users';
import { startServerProcess } from '../helpers/server-process';
import { createTestDatabase, TestDatabase } from '../helpers/test-app';

const LOGINS = 200;
const FLOOD_MS = 8_000;
/** The clients start spread over this long, as a flood builds up, and the probes count from its end. */
const RAMP_MS = 1_000;
const PROBE_EVERY_MS = 20;
/**
 * The bound stated in the README's Faults section, for a 2-core machine that also runs the test
 * client. A machine shared with other work is slower at everything: the test adds twice the p99
 * it measures before the flood, so that it measures the flood and not the neighbours.
 */
const P99_BOUND_MS = 500;

interface Login {
  email: string;
  status: number;
  retryAfter: string | null;
  code: string;
}

/**
 * 200 clients logging in at once (joining over RAMP_MS), each again as soon as it is answered
 * (after Retry-After when refused), in a thread of its own, so the probes' latencies are the server's and not this
 * event loop's. Unknown emails, each once: every login admitted costs a whole verification.
 */
const FLOOD = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, clients, rampMs } = workerData;
const logins = [];
let stop = false;
let sequence = 0;
parentPort.on('message', () => (stop = true));
const client = async (_, index) => {
  await new Promise((resolve) => setTimeout(resolve, (index * rampMs) / clients));
  while (!stop) {
    const email = 'flood-' + sequence++ + '@example.com';
    const answer = await fetch(url + '/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'not-the-password-1' }),
    });
    const body = await answer.json();
    const retryAfter = answer.headers.get('retry-after');
    logins.push({ email, status: answer.status, retryAfter, code: body.code });
    if (answer.status === 429) await new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 1000));
  }
};
Promise.all(Array.from({ length: clients }, client)).then(() => parentPort.postMessage(logins));
`;

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.99) - 1]!;

/**
 * Issue 20 (scenario 7): 200 concurrent logins, kept up for 8 s, against the real server process.
 * The other routes keep answering (p99 under 500 ms), and the logins past the hashing cap are
 * refused with 429 and a Retry-After of 2 to 4 s before any work: their attempt is not even counted.
 */
describe('login saturation', () => {
  let database: TestDatabase;
  let db: Client;
  beforeAll(async () => {
    database = await createTestDatabase('login-flood');
    db = new Client({ connectionString: database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  it(`issue 20 (scenario 7): during ${LOGINS} concurrent logins, /health/live and GET /v1/products keep a p99 under ${P99_BOUND_MS} ms; extra logins get 429 with Retry-After before hashing, uncounted`, async () => {
    await freeTierOnConfiguredRateLimit(db);
    await insertProduct(db);
    const apiKey = await insertApiKey(db, { ownerId: (await insertUser(db)).id, scope: 'read-only' });
    const server = await startServerProcess(database.url, { RATE_LIMIT_LOGIN: '100000/60', RATE_LIMIT_AUTHENTICATED: '100000/60' }, { discardOutput: true });
    try {
      const probe = async (path: string, headers: Record<string, string>, forMs: number) => {
        const latencies: number[] = [];
        for (const until = Date.now() + forMs; Date.now() < until;) {
          const started = performance.now();
          const answer = await fetch(`${server.url}${path}`, { headers });
          await answer.arrayBuffer();
          expect(answer.status, path).toBe(200);
          latencies.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
        }
        return latencies;
      };
      const probeBoth = (forMs: number) =>
        Promise.all([probe('/health/live', {}, forMs), probe('/v1/products?limit=5', { authorization: `Bearer ${apiKey.key}` }, forMs)]);

      const [idleLive, idleProducts] = await probeBoth(2_000);
      const flood = new Worker(FLOOD, { eval: true, workerData: { url: server.url, clients: LOGINS, rampMs: RAMP_MS } });
      const floodDone = new Promise<Login[]>((resolve, reject) => {
        flood.once('message', resolve);
        flood.once('error', reject);
      });
      // The flood is under way, all 200 clients in, before the probes count.
      await new Promise((resolve) => setTimeout(resolve, RAMP_MS));
      const [live, products] = await probeBoth(FLOOD_MS);
      flood.postMessage('stop');
      const logins = await floodDone;
      await flood.terminate();

      const refused = logins.filter((login) => login.status === 429);
      const verified = logins.filter((login) => login.status === 401);
      const report = [
        `idle p99: live ${p99(idleLive).toFixed(0)} ms, products ${p99(idleProducts).toFixed(0)} ms`,
        `flood p99: live ${p99(live).toFixed(0)} ms (n=${live.length}), products ${p99(products).toFixed(0)} ms (n=${products.length})`,
        `logins: ${verified.length} verified, ${refused.length} refused`,
      ].join('; ');
      expect(verified.length + refused.length, report).toBe(logins.length);
      for (const login of refused) expect(login, report).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.stringMatching(/^[234]$/) });
      expect(verified.every((login) => login.code === 'INVALID_CREDENTIALS')).toBe(true);
      expect(refused.length, report).toBeGreaterThan(0);

      // Refused before any work: no failed-login counter for a refused email, one for each verified.
      const counted = new Set(
        (await db.query<{ key: string }>("SELECT key FROM login_failures WHERE key LIKE 'email:flood-%'")).rows.map((row) => row.key.slice('email:'.length)),
      );
      expect(refused.filter((login) => counted.has(login.email))).toEqual([]);
      expect(verified.filter((login) => !counted.has(login.email))).toEqual([]);

      expect(p99(live), report).toBeLessThan(P99_BOUND_MS + 2 * p99(idleLive));
      expect(p99(products), report).toBeLessThan(P99_BOUND_MS + 2 * p99(idleProducts));
      // Enough answers for a p99 to mean something, and a sign of their own: the routes were not
      // held up for long at a time (without the cap, 5 to 15 answers of GET /v1/products came back).
      expect(Math.min(live.length, products.length), report).toBeGreaterThan(25);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 120_000);
});
