import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { newId } from '../../src/lib/ids';
import { insertUser } from '../factories/users';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { startServerProcess } from '../helpers/server-process';
import { createTestApp, createTestDatabase, TestApp, TestDatabase } from '../helpers/test-app';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { WebhookDispatcher } from '../../src/modules/webhooks/webhook-dispatcher';

const EVENTS = 200;
const KEY = randomBytes(32);

/** The real server process on `databaseUrl`, dispatching webhooks; resolves once it listens. */
const startServer = (databaseUrl: string) =>
  startServerProcess(databaseUrl, {
    DATA_ENCRYPTION_KEY: KEY.toString('base64'),
    WEBHOOKS_ALLOW_INSECURE: 'true',
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_ATTEMPT_TIMEOUT_MS: '1000',
    WEBHOOK_DISPATCH: 'true',
    // One endpoint takes every event here: at the default 4 in flight, 200 answers of 400 ms are 20 s
    // of waiting that prove nothing more about crashes.
    WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '50',
  });

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('outbound webhooks survive a crash and share work across instances (issue 12)', () => {
  let database: TestDatabase;
  let db: Client;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    database = await createTestDatabase('webhook-crash');
    db = new Client({ connectionString: database.url });
    await db.connect();
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await db.end();
    await database.drop();
  });

  /** An endpoint on the receiver and `count` license.validated events in the outbox, as accepted work. */
  async function acceptedEvents(count: number, path: string) {
    const owner = await insertUser(db);
    await insertWebhookEndpoint(db, new SecretBox(KEY), { ownerId: owner.id, url: `${receiver.baseUrl}${path}`, events: ['license.validated'] });
    const ids = Array.from({ length: count }, () => newId('obx'));
    for (const id of ids) {
      const payload = { licenseId: newId('lic'), productId: newId('prd'), userId: owner.id, validatedAt: new Date().toISOString(), fingerprint: null };
      await db.query('INSERT INTO outbox_messages (id, type, payload) VALUES ($1, $2, $3)', [id, 'license.validated', JSON.stringify(payload)]);
    }
    return ids.map((id) => `evt_${id.slice(4)}`);
  }
  const receivedAt = (path: string) => receiver.requests.filter((request) => request.path === path);

  it(
    'done-means 4: kill -9 in the middle of deliveries, then a restart: every one of 200 events arrives, a cut attempt again with the same webhook-id',
    { timeout: 120_000 },
    async () => {
      const path = '/crash';
      const eventIds = await acceptedEvents(EVENTS, path);
      // Slow answers keep attempts in flight when the process dies.
      receiver.answer(...Array.from({ length: EVENTS }, () => ({ status: 200, delayMs: 400 })));
      const first = await startServer(database.url);
      await until(() => receivedAt(path).length >= 30, 30_000, 'deliveries to start');
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      const beforeCrash = new Set(receivedAt(path).map((request) => request.headers['webhook-id']));

      const second = await startServer(database.url);
      try {
        await until(() => new Set(receivedAt(path).map((request) => request.headers['webhook-id'])).size === EVENTS, 60_000, 'every event');
        await until(
          async () => (await db.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'SUCCEEDED'")).rows[0].n === EVENTS,
          30_000,
          'every delivery recorded',
        );
      } finally {
        second.child.kill('SIGTERM');
        await new Promise((resolve) => second.child.once('exit', resolve));
      }
      const received = receivedAt(path);
      expect(new Set(received.map((request) => request.headers['webhook-id']))).toEqual(new Set(eventIds));
      // What was cut by the crash came again under its own id: at least once, never under another.
      const repeated = [...beforeCrash].filter((id) => received.filter((request) => request.headers['webhook-id'] === id).length > 1);
      expect(repeated.length).toBeGreaterThan(0);
    },
  );

  describe('two instances', () => {
    let instances: TestApp[] = [];
    beforeAll(async () => {
      const env = { DATA_ENCRYPTION_KEY: KEY.toString('base64'), WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' };
      instances = await Promise.all([createTestApp({ database, env }), createTestApp({ database, env })]);
    });
    afterAll(async () => {
      await Promise.all(instances.map((instance) => instance.close()));
    });

    it('done-means 5: two instances dispatching the same outbox make each attempt once (counted by webhook-id and attempt)', async () => {
      const path = '/twice';
      const eventIds = await acceptedEvents(60, path);
      receiver.answer(...Array.from({ length: 60 }, (_, i) => ({ status: i % 3 === 0 ? 500 : 200, delayMs: 20 })));
      const dispatchers = instances.map((instance) => instance.app.get(WebhookDispatcher));
      for (let round = 0; round < 3; round++) await Promise.all(dispatchers.map((dispatcher) => dispatcher.tick()));
      const received = receivedAt(path);
      const attempts = (
        await db.query('SELECT d.event_id, count(a.id)::int AS n FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id GROUP BY d.event_id')
      ).rows;
      // Every request the receiver saw is one recorded attempt: none was made twice at once.
      const byId = new Map<string, number>();
      for (const request of received) byId.set(String(request.headers['webhook-id']), (byId.get(String(request.headers['webhook-id'])) ?? 0) + 1);
      expect(new Set(byId.keys())).toEqual(new Set(eventIds));
      for (const row of attempts as { event_id: string; n: number }[]) if (eventIds.includes(row.event_id)) expect(byId.get(row.event_id)).toBe(row.n);
      expect([...byId.values()].every((n) => n === 1)).toBe(true);
    });
  });
});
