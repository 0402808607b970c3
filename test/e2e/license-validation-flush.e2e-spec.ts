import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { insertApiKey } from '../factories/api-keys';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { freeTierOnConfiguredRateLimit } from '../factories/subscriptions';
import { insertUser } from '../factories/users';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { startServerProcess } from '../helpers/server-process';
import { createTestDatabase, TestDatabase } from '../helpers/test-app';

const VALIDATIONS = 120;
const KEY = randomBytes(32);

/** Issue 13 #3: what the hot paths batch in memory reaches the database when the process is stopped. */
describe('batched writes are flushed on SIGTERM', () => {
  let database: TestDatabase;
  let db: Client;
  beforeAll(async () => {
    database = await createTestDatabase('validation-flush');
    db = new Client({ connectionString: database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  it('N validations and N API-key calls, then SIGTERM: N validation times, N license.validated events and N audit rows', async () => {
    const server = await startServerProcess(database.url, {
      DATA_ENCRYPTION_KEY: KEY.toString('base64'),
      WEBHOOK_DISPATCH: 'false',
      RATE_LIMIT_LICENSE_VALIDATE: '100000/60',
      RATE_LIMIT_AUTHENTICATED: '100000/60',
      // No periodic flush before the stop: whatever is written, the shutdown wrote.
      LICENSE_VALIDATION_FLUSH_MS: '60000',
    });
    await freeTierOnConfiguredRateLimit(db);
    const owner = await insertUser(db);
    await insertWebhookEndpoint(db, new SecretBox(KEY), { ownerId: owner.id, events: ['license.validated'] });
    const product = await insertProduct(db);
    const licenses = [];
    for (let i = 0; i < VALIDATIONS; i++) licenses.push(await insertLicense(db, { userId: owner.id, productId: product.id }));
    const apiKey = await insertApiKey(db, { ownerId: owner.id, scope: 'read-only' });

    for (let i = 0; i < VALIDATIONS; i += 20) {
      const answers = await Promise.all(
        licenses.slice(i, i + 20).map((license) =>
          fetch(`${server.url}/v1/licenses/validate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ key: license.key }),
          }),
        ),
      );
      for (const answer of answers) expect(((await answer.json()) as { code: string }).code).toBe('VALID');
    }
    for (let i = 0; i < VALIDATIONS; i++) {
      expect((await fetch(`${server.url}/v1/users/me`, { headers: { authorization: `Bearer ${apiKey.key}` } })).status).toBe(200);
    }
    const count = async (sql: string, params: unknown[] = []) => (await db.query<{ n: number }>(sql, params)).rows[0]!.n;
    const stamped = () => count('SELECT count(*)::int AS n FROM licenses WHERE user_id = $1 AND last_validated_at IS NOT NULL', [owner.id]);
    const events = () => count("SELECT count(*)::int AS n FROM outbox_messages WHERE type = 'license.validated' AND payload->>'userId' = $1", [owner.id]);
    // Answered, and not yet written: the writes are off the request path.
    expect(await stamped()).toBe(0);
    expect(await events()).toBe(0);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    expect(await stamped()).toBe(VALIDATIONS);
    expect(await events()).toBe(VALIDATIONS);
    expect(await count('SELECT count(*)::int AS n FROM api_key_audit_log WHERE key_id = $1', [apiKey.id])).toBe(VALIDATIONS);
    expect(await count('SELECT coalesce(sum(request_count), 0)::int AS n FROM api_key_usage WHERE key_id = $1', [apiKey.id])).toBe(VALIDATIONS);
  });
});
