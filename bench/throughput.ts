import { once } from 'node:events';
import { createServer } from 'node:http';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import Stripe from 'stripe';
import { SecretBox } from '../src/common/crypto/secret-box';
import { outboxMessages } from '../src/db/schema';
import { orm } from '../test/factories/db';
import { insertUser } from '../test/factories/users';
import { insertWebhookEndpoint } from '../test/factories/webhook-endpoints';
import type { ServerProcess } from './server-process';

const DUPLICATE_EVERY = 10;

/**
 * Signed Stripe events (a type the app records and ignores, so the measure is ingestion itself:
 * signature, the stored-once insert, the outcome), one in ten a redelivery of an earlier one.
 */
export async function stripeIngestion(app: ServerProcess, secret: string, seconds: number, connections: number, warmupSeconds: number) {
  const stripe = new Stripe('sk_test_bench');
  const run = `${Date.now().toString(36)}`;
  let sent = 0;
  const signed = (n: number) => {
    const payload = JSON.stringify({
      id: `evt_bench_${run}_${n}`,
      object: 'event',
      type: 'payment_intent.created',
      api_version: '2025-10-29.clover',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: { id: `pi_bench_${run}_${n}`, object: 'payment_intent', amount: 4900, currency: 'usd' } },
    });
    return {
      body: payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret }) },
    };
  };
  const load = (duration: number) =>
    autocannon({
      url: `${app.url}/v1/webhooks/stripe`,
      method: 'POST',
      connections,
      duration,
      requests: [
        {
          setupRequest: (request) => {
            const n = sent++;
            // Every tenth request redelivers an event sent before (Stripe's at-least-once delivery).
            const { body, headers } = signed(n % DUPLICATE_EVERY === DUPLICATE_EVERY - 1 ? Math.floor(Math.random() * n) : n);
            return { ...request, body, headers: { ...request.headers, ...headers } };
          },
        },
      ],
    });
  if (warmupSeconds > 0) await load(warmupSeconds);
  const cpuBefore = app.cpuMicros();
  const result = await load(seconds);
  return {
    eventsPerSecond: result.requests.total / result.duration,
    // The app's own CPU per event: what a busy machine changes least.
    cpuMicrosPerEvent: Math.round((app.cpuMicros() - cpuBefore) / Math.max(result.requests.total, 1)),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p99: result.latency.p99,
    target: { minEventsPerSecond: 1_500 },
  };
}

/**
 * Outbox rows for one endpoint on a local receiver (answering 204), from their commit to the last
 * delivery's arrival: what the dispatcher sustains.
 */
export async function outboundDeliveries(app: ServerProcess, databaseUrl: string, secretKeyBase64: string, warmUp: boolean, events = 5_000) {
  if (warmUp) await deliver(app, databaseUrl, secretKeyBase64, 500);
  return deliver(app, databaseUrl, secretKeyBase64, events);
}

async function deliver(app: ServerProcess, databaseUrl: string, secretKeyBase64: string, events: number) {
  let received = 0;
  let firstAt = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(204).end();
      if (received === 0) firstAt = Date.now();
      if (++received === events) done();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const { port } = receiver.address() as { port: number };
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  try {
    const owner = await insertUser(pool, { email: `bench-webhooks-${Date.now()}@example.com` });
    const box = new SecretBox(Buffer.from(secretKeyBase64, 'base64'));
    await insertWebhookEndpoint(pool, box, { ownerId: owner.id, url: `http://127.0.0.1:${port}/hooks`, events: ['license.revoked'] });
    const rows = Array.from({ length: events }, (_, n) => ({
      type: 'license.revoked',
      payload: { licenseId: `lic_bench${n}`, productId: 'prd_bench', userId: owner.id, reason: 'ADMIN' },
    }));
    const started = Date.now();
    const cpuBefore = app.cpuMicros();
    for (let i = 0; i < rows.length; i += 1_000)
      await orm(pool)
        .insert(outboxMessages)
        .values(rows.slice(i, i + 1_000));
    const timeout = new Promise<never>((_, fail) =>
      setTimeout(() => fail(new Error(`only ${received} of ${events} deliveries arrived within 120 s`)), 120_000).unref(),
    );
    await Promise.race([all, timeout]);
    const seconds = (Date.now() - started) / 1000;
    const cpuMicrosPerDelivery = Math.round((app.cpuMicros() - cpuBefore) / events);
    // From the first outbox insert to the first arrival: the inserts, and the dispatcher's wait for its next tick (DISPATCH_INTERVAL_MS).
    const firstDeliveryAfterMs = firstAt - started;
    return {
      delivered: received,
      seconds,
      deliveriesPerSecond: events / seconds,
      cpuMicrosPerDelivery,
      firstDeliveryAfterMs,
      target: { minDeliveriesPerSecond: 1_000 },
    };
  } finally {
    await pool.end();
    receiver.close();
  }
}
