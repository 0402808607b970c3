import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { insertLicense } from '../factories/licenses';
import { useTestApp } from '../helpers/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issue 20, scenario 4. Only the app's own backends in this file's own database are terminated,
 * so it runs on the shared server. The server's timeouts are long, so that only the kill ends the
 * request.
 */
describe('#20 scenario 4: a backend killed mid-transaction, while it holds a license row lock', () => {
  const ctx = useTestApp({ env: { DATABASE_LOCK_TIMEOUT_MS: '20000', DATABASE_STATEMENT_TIMEOUT_MS: '20000' } });

  const activate = (key: string, idempotencyKey: string) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/licenses/activate',
      payload: JSON.stringify({ key, fingerprint: 'killed-machine' }),
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      remoteAddress: '192.0.2.130',
    });
  const activationsOf = async (licenseId: string) => (await ctx.db.query('SELECT fingerprint FROM activations WHERE license_id = $1', [licenseId])).rows;
  const eventsOf = async (licenseId: string) =>
    (await ctx.db.query("SELECT 1 FROM outbox_messages WHERE type = 'license.activated' AND payload->>'licenseId' = $1", [licenseId])).rowCount;

  /** The app's backend in this database that waits for a lock, once there is one. */
  async function waitingBackend(): Promise<number> {
    for (let tries = 0; tries < 250; tries++) {
      const { rows } = await ctx.db.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gatehouse' AND wait_event_type = 'Lock'",
      );
      if (rows.length === 1) return rows[0]!.pid;
      await sleep(20);
    }
    throw new Error('the activation never waited for the lock');
  }

  it('pg_terminate_backend of the app’s connection → 503 with Retry-After, nothing written; the same Idempotency-Key then activates exactly once', async () => {
    const license = await insertLicense(ctx.db, { maxActivations: 3 });
    // Once the app has locked the license row, its next read (the license's activations) waits
    // behind this table lock: the app's transaction holds the row lock while it waits.
    const holder = new Client({ connectionString: ctx.t.database.url });
    await holder.connect();
    let killed: Awaited<ReturnType<typeof activate>>;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE activations IN ACCESS EXCLUSIVE MODE');
      const pending = activate(license.key, 'scenario-4');
      const pid = await waitingBackend();
      await expect(ctx.db.query('SELECT 1 FROM licenses WHERE id = $1 FOR UPDATE NOWAIT', [license.id])).rejects.toMatchObject({ code: '55P03' });

      const { rows } = await ctx.db.query<{ terminated: boolean }>('SELECT pg_terminate_backend($1) AS terminated', [pid]);
      expect(rows).toEqual([{ terminated: true }]);
      killed = await pending;
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }

    expect(killed.statusCode, killed.body).toBe(503);
    expect(killed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(killed.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(Number(killed.headers['retry-after'])).toBeGreaterThan(0);
    expect(killed.body).not.toMatch(/terminat|administrator|pg_/i);
    // Nothing of the killed transaction, and its row lock died with it.
    expect(await activationsOf(license.id)).toEqual([]);
    expect(await eventsOf(license.id)).toBe(0);
    expect((await ctx.db.query('SELECT 1 FROM licenses WHERE id = $1 FOR UPDATE NOWAIT', [license.id])).rowCount).toBe(1);

    const retried = await activate(license.key, 'scenario-4');
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    const replayed = await activate(license.key, 'scenario-4');
    expect(replayed.statusCode).toBe(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toEqual(retried.json());

    expect(await activationsOf(license.id)).toEqual([{ fingerprint: 'killed-machine' }]);
    expect(await eventsOf(license.id)).toBe(1);
  });
});
