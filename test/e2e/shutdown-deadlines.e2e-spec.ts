import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { insertApiKey } from '../factories/api-keys';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { freeTierOnConfiguredRateLimit } from '../factories/subscriptions';
import { insertUser } from '../factories/users';
import { insertWebhookDelivery } from '../factories/webhook-deliveries';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { Blackhole } from '../helpers/blackhole';
import { startServerProcess } from '../helpers/server-process';
import { StallingSmtp } from '../helpers/stalling-smtp';
import { createTestDatabase, TestDatabase } from '../helpers/test-app';

const KEY = randomBytes(32);
const LICENSES = 40;
const WORKERS = 8;
/** SHUTDOWN_TIMEOUT_MS's default: the bound a drain must fit in, whatever hangs. */
const SHUTDOWN_BOUND_MS = 9_000;
const UNLIMITED = Object.fromEntries(
  ['PUBLIC', 'AUTHENTICATED', 'LICENSE_VALIDATE', 'PASSWORD_RESET_REQUEST'].map((name) => [`RATE_LIMIT_${name}`, '100000/60']),
);

/**
 * Issue 20 (measured 4): SIGTERM under load while a password-reset mail hangs on an SMTP server
 * that stalls after its greeting, webhook attempts hang on a receiver that never answers, and a
 * request outlives the requests' deadline. Each step of the drain has a deadline, the flushes run
 * whatever hangs, and the process exits 0 within SHUTDOWN_TIMEOUT_MS.
 */
describe('shutdown with a deadline per step', () => {
  let database: TestDatabase;
  let db: Client;
  let smtp: StallingSmtp;
  let blackhole: Blackhole;
  beforeAll(async () => {
    database = await createTestDatabase('shutdown');
    db = new Client({ connectionString: database.url });
    await db.connect();
    smtp = await StallingSmtp.start();
    blackhole = await Blackhole.start();
  });
  afterAll(async () => {
    await db.end();
    await smtp.close();
    await blackhole.close();
    await database.drop();
  });

  it('a stalled SMTP mail, hanging webhook attempts and a request that never ends: every 2xx API-key call is in usage and audit, every validation is stamped and has its event, exit 0 within 9 s', async () => {
    await freeTierOnConfiguredRateLimit(db);
    const owner = await insertUser(db);
    const endpoint = await insertWebhookEndpoint(db, new SecretBox(KEY), { ownerId: owner.id, url: blackhole.url, events: ['license.validated'] });
    for (let i = 0; i < 8; i++) await insertWebhookDelivery(db, { endpointId: endpoint.id, ownerId: owner.id, nextAttemptAt: new Date(Date.now() - 60_000) });
    const product = await insertProduct(db);
    const licenses: Array<{ key: string }> = [];
    for (let i = 0; i < LICENSES; i++) licenses.push(await insertLicense(db, { userId: owner.id, productId: product.id }));
    const apiKey = await insertApiKey(db, { ownerId: owner.id, scope: 'read-only' });

    const server = await startServerProcess(
      database.url,
      {
        ...UNLIMITED,
        DATA_ENCRYPTION_KEY: KEY.toString('base64'),
        SMTP_URL: smtp.url,
        ALLOWED_LINK_ORIGINS: 'https://app.example.com',
        WEBHOOK_DISPATCH: 'true',
        WEBHOOKS_ALLOW_INSECURE: 'true',
        WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
        // No periodic flush before the stop: whatever is written, the shutdown wrote.
        LICENSE_VALIDATION_FLUSH_MS: '60000',
      },
      { withProbe: true },
    );
    try {
      // A background task stuck in the SMTP dialogue: greeted, EHLO sent, never answered.
      const reset = await fetch(`${server.url}/v1/users/password-reset-request`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: owner.email, resetPageLink: 'https://app.example.com/reset' }),
      });
      expect(reset.status).toBe(202);
      await vi.waitFor(() => expect(smtp.commands.some((command) => command.startsWith('EHLO'))).toBe(true), { timeout: 10_000, interval: 50 });
      // Webhook attempts hanging (4, the per-endpoint cap; each would wait 15 s for an answer).
      await vi.waitFor(() => expect(blackhole.open).toBe(4), { timeout: 10_000, interval: 50 });

      const validations: Array<{ licenseId: string; validatedAt: string }> = [];
      const calls: Array<{ status: number; requestId: string }> = [];
      let stop = false;
      const worker = async (index: number) => {
        for (let n = index; !stop; n++) {
          try {
            if (n % 2 === 0) {
              const answer = await fetch(`${server.url}/v1/licenses/validate`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ key: licenses[n % LICENSES]!.key }),
              });
              const body = (await answer.json()) as { code: string; license: { id: string; lastValidatedAt: string } };
              if (answer.status === 200 && body.code === 'VALID') validations.push({ licenseId: body.license.id, validatedAt: body.license.lastValidatedAt });
            } else {
              const answer = await fetch(`${server.url}/v1/users/me`, { headers: { authorization: `Bearer ${apiKey.key}` } });
              await answer.arrayBuffer();
              calls.push({ status: answer.status, requestId: answer.headers.get('x-request-id')! });
            }
          } catch {
            // Refused or reset: the server has stopped listening.
            return;
          }
        }
      };
      const load = Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(index)));
      await vi.waitFor(() => expect(Math.min(validations.length, calls.length)).toBeGreaterThan(100), { timeout: 20_000, interval: 20 });

      // A request that would run for 20 s, far past SHUTDOWN_REQUESTS_TIMEOUT_MS (3 s).
      const endless = fetch(`${server.url}/test-probe/slow?ms=20000`).then(
        (answer) => answer.status,
        () => 'cut' as const,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));

      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      const tookMs = Date.now() - signalledAt;
      stop = true;
      await load;

      expect({ code, tookMs: tookMs < SHUTDOWN_BOUND_MS }, drainLog(server.output())).toEqual({ code: 0, tookMs: true });
      expect(await endless).toBe('cut');

      // Every VALID answer: its event (license and time), and the license's stamp at least as late.
      const events = await db.query<{ license_id: string; at: string }>(
        "SELECT payload->>'licenseId' AS license_id, payload->>'validatedAt' AS at FROM outbox_messages WHERE type = 'license.validated' AND payload->>'userId' = $1",
        [owner.id],
      );
      const written = countBy(events.rows.map((row) => `${row.license_id}@${row.at}`));
      const answered = countBy(validations.map((validation) => `${validation.licenseId}@${validation.validatedAt}`));
      const missing = [...answered].filter(([event, times]) => (written.get(event) ?? 0) < times);
      expect(missing).toEqual([]);
      expect(validations.length).toBeGreaterThan(100);
      const stamps = await db.query<{ id: string; at: Date | null }>('SELECT id, last_validated_at AS at FROM licenses WHERE user_id = $1', [owner.id]);
      for (const { id, at } of stamps.rows) {
        const latest = validations.filter((validation) => validation.licenseId === id).map((validation) => Date.parse(validation.validatedAt));
        if (latest.length > 0) expect(at?.getTime(), id).toBeGreaterThanOrEqual(Math.max(...latest));
      }

      // Every 2xx API-key call: its audit row (by request id), and counted in the usage.
      const succeeded = calls.filter((call) => call.status >= 200 && call.status < 300);
      expect(succeeded.length).toBeGreaterThan(100);
      const audited = await db.query<{ request_id: string }>('SELECT request_id FROM api_key_audit_log WHERE key_id = $1', [apiKey.id]);
      const auditedIds = new Set(audited.rows.map((row) => row.request_id));
      expect(succeeded.filter((call) => !auditedIds.has(call.requestId))).toEqual([]);
      const usage = await db.query<{ n: number }>('SELECT coalesce(sum(request_count), 0)::int AS n FROM api_key_usage WHERE key_id = $1', [apiKey.id]);
      expect(usage.rows[0]!.n).toBeGreaterThanOrEqual(calls.length);
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    }
  }, 120_000);
});

/** The drain's own log lines, for a failure message. */
function drainLog(output: string): string {
  return output
    .split('\n')
    .filter((line) => /"context":"(Shutdown|BackgroundTasks|Database|ApiKeyUsage|LicenseValidations)"/.test(line))
    .join('\n');
}

function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
