import { Socket } from 'node:net';
import { Client, Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { DB_POOL } from '../../src/db/database';
import { insertLicense } from '../factories/licenses';
import { testConfig, useTestApp } from '../helpers/test-app';

const LOCK_TIMEOUT_MS = 400;

describe('#9 database timeouts: a held row lock answers 503 within the lock timeout, and the pool recovers', () => {
  const ctx = useTestApp({ env: { DATABASE_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS), DATABASE_POOL_MAX: '2' } });

  const grantLicense = () => insertLicense(ctx.db, { maxActivations: 3 });

  const activate = (key: string, fingerprint: string) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/licenses/activate',
      payload: JSON.stringify({ key, fingerprint }),
      headers: { 'content-type': 'application/json' },
      remoteAddress: '192.0.2.90',
    });
  const activationsOf = async (licenseId: string) => (await ctx.db.query('SELECT 1 FROM activations WHERE license_id = $1', [licenseId])).rowCount;

  it('POST /v1/licenses/activate on a license locked FOR UPDATE by another client: 503 with Retry-After, nothing written; then 201', async () => {
    const license = await grantLicense();
    const holder = new Client({ connectionString: ctx.t.database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM licenses WHERE id = $1 FOR UPDATE', [license.id]);

      // More attempts than the pool has connections: each must give its connection back.
      for (let attempt = 0; attempt < 3; attempt++) {
        const started = Date.now();
        const blocked = await activate(license.key, `blocked-${attempt}`);
        expect(Date.now() - started).toBeLessThan(LOCK_TIMEOUT_MS + 1_500);
        expect(blocked.statusCode, blocked.body).toBe(503);
        expect(blocked.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
        expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      }
      expect(await activationsOf(license.id)).toBe(0);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }

    const after = await activate(license.key, 'after-unlock');
    expect(after.statusCode, after.body).toBe(201);
    expect(await activationsOf(license.id)).toBe(1);
  });

  it('every pool connection carries the configured timeouts (defaults 4 s statement, 30 s idle in transaction), and the driver waits 1 s longer (5 s) for an answer', async () => {
    const pool = ctx.t.app.get<Pool>(DB_POOL);
    const { rows } = await pool.query<Record<string, string>>(
      "SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock, current_setting('idle_in_transaction_session_timeout') AS idle",
    );
    expect(rows[0]).toEqual({ statement: '4s', lock: `${LOCK_TIMEOUT_MS}ms`, idle: '30s' });
    expect(pool.options).toMatchObject({ query_timeout: 5_000, keepAlive: true });
  });

  it('refuses a client query timeout that would give up before the server cancels the query itself', () => {
    expect(() => testConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '4000', DATABASE_QUERY_TIMEOUT_MS: '4000' })).toThrow(
      /DATABASE_QUERY_TIMEOUT_MS: must be above DATABASE_STATEMENT_TIMEOUT_MS/,
    );
    expect(testConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '60000' }).database.queryTimeoutMs).toBe(61_000);
  });
});

describe('#9 HTTP timeouts: a slowloris connection is closed within the request timeout', () => {
  const REQUEST_TIMEOUT_MS = 1_000;
  const ctx = useTestApp({ env: { HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });

  it('headers sent byte by byte and never finished: the server closes the socket', async () => {
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = ctx.t.app.getHttpServer().address() as { port: number };
    const socket = new Socket();
    const started = Date.now();
    const trickle = 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(1_000);
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const giveUp = setTimeout(() => reject(new Error('the server kept the slowloris connection open')), 10_000);
        socket.once('close', () => {
          clearTimeout(giveUp);
          resolve(Date.now() - started);
        });
        socket.on('error', () => undefined);
        socket.connect(port, '127.0.0.1', () => {
          timer = setInterval(() => {
            if (sent < trickle.length && socket.writable) socket.write(trickle[sent++]!);
          }, 50);
        });
      });
      expect(closedAfter).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(closedAfter).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
      expect(sent).toBeLessThan(trickle.length);
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
  });
});
