import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MailService } from '../../src/common/mail/mail.service';
import { Retention } from '../../src/common/background';
import { newId } from '../../src/lib/ids';
import { TransactionRunner } from '../../src/db/transaction';
import { unique } from '../factories/db';
import { FaultySmtp } from '../helpers/faulty-smtp';
import { Mailbox } from '../helpers/mailbox';
import { createTestApp, createTestDatabase, TestApp, TestDatabase } from '../helpers/test-app';

/** Queues `count` mails to fresh addresses in one transaction, as a change that causes them would; their addresses. */
async function queueMails(app: TestApp['app'], count: number): Promise<string[]> {
  const addresses = Array.from({ length: count }, () => `mail-${unique()}@example.com`);
  await app.get(TransactionRunner).run(async (tx) => {
    for (const email of addresses) await app.get(MailService).queue(tx, { email, language: 'en' }, 'twoFactorEnabled', { name: 'Ada' });
  });
  return addresses;
}

const statuses = async (db: Client) =>
  (await db.query('SELECT status, count(*)::int AS n FROM outbound_mails GROUP BY status ORDER BY status')).rows as Array<{ status: string; n: number }>;

describe('the mail sender: shared by instances, bounded at shutdown, with a dead letter and a purge', () => {
  let database: TestDatabase;
  let db: Client;
  const mailbox = new Mailbox();
  let smtpUrl: string;
  const apps: TestApp[] = [];
  const boot = async (env: Record<string, string>) => {
    const app = await createTestApp({ database, env: { SMTP_URL: smtpUrl, ...env } });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    database = await createTestDatabase('mail');
    db = new Client({ connectionString: database.url });
    await db.connect();
    smtpUrl = await mailbox.start();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db.end();
    await database.drop();
    await mailbox.stop();
  });

  it('two sending instances deliver 40 mails queued at once, each exactly once', async () => {
    // One instance that only queues, two that send (one over pooled connections).
    const [queuer] = await Promise.all([boot({ MAIL_SEND: 'false' }), boot({}), boot({ SMTP_URL: `${smtpUrl}?pool=true` })]);
    const addresses = await queueMails(queuer.app, 40);
    for (const email of addresses) await mailbox.waitFor(email, 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const email of addresses) expect(mailbox.to(email)).toHaveLength(1);
    expect(await statuses(db)).toEqual([{ status: 'SENT', n: 40 }]);
    expect((await db.query('SELECT max(attempt_count)::int AS n FROM outbound_mails')).rows[0].n).toBe(1);
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('shutdown stops claiming, ends the sends in flight within SMTP_SEND_TIMEOUT_MS, and keeps every unsent mail for the next start', async () => {
    const stall = await FaultySmtp.start('stall');
    try {
      const timeouts = {
        SMTP_CONNECTION_TIMEOUT_MS: '5000',
        SMTP_GREETING_TIMEOUT_MS: '5000',
        SMTP_SOCKET_TIMEOUT_MS: '5000',
        SMTP_SEND_TIMEOUT_MS: '1500',
        MAIL_RETRY_BASE_MS: '100',
      };
      const stalled = await createTestApp({ database, env: { SMTP_URL: `smtp://127.0.0.1:${stall.port}`, MAIL_SEND_CONCURRENCY: '2', ...timeouts } });
      const addresses = await queueMails(stalled.app, 5);
      // Two sends hang on the stalled server; three mails wait for a slot.
      await vi.waitFor(() => expect(stall.open).toBe(2), { timeout: 5_000, interval: 20 });
      const started = Date.now();
      await stalled.close();
      // Without the attempt's deadline the stalled sends would hold it for SMTP_SOCKET_TIMEOUT_MS (5 s) at least.
      expect(Date.now() - started).toBeLessThan(1_500 + 2_000);
      const connections = stall.connections;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stall.connections).toBe(connections);
      // The two attempts were recorded before the pool closed; nothing was lost or given up.
      const rows = (
        await db.query('SELECT attempt_count, lease_until, last_error FROM outbound_mails WHERE status = $1 ORDER BY attempt_count DESC', ['PENDING'])
      ).rows as Array<{ attempt_count: number; lease_until: Date | null; last_error: string | null }>;
      expect(rows).toHaveLength(5);
      expect(rows.map((row) => row.attempt_count)).toEqual([1, 1, 0, 0, 0]);
      expect(rows.every((row) => row.lease_until === null)).toBe(true);
      expect(rows[0]!.last_error).toMatch(/^TIMEOUT/);

      // The next start (with SMTP working) sends them, once each, after the failed ones' backoff.
      await boot({});
      for (const email of addresses) await mailbox.waitFor(email, 1, 10_000);
      for (const email of addresses) expect(mailbox.to(email)).toHaveLength(1);
      await Promise.all(apps.splice(0).map((app) => app.close()));
    } finally {
      await stall.close();
    }
  });

  it('a mail leased by an attempt in flight waits for it; once the lease runs out (a sender that died mid-send), it is sent again', async () => {
    const queuer = await boot({ MAIL_SEND: 'false' });
    const [held, crashed] = await queueMails(queuer.app, 2);
    // Not due until the sender below is up, whatever its boot takes.
    await db.query("UPDATE outbound_mails SET next_attempt_at = now() + interval '1 hour' WHERE recipient IN ($1, $2)", [held, crashed]);
    await boot({});
    // As if two claims had been made elsewhere: one attempt still running, one whose process died.
    await db.query(
      "UPDATE outbound_mails SET next_attempt_at = now(), attempt_count = 1, lease_until = CASE recipient WHEN $1 THEN now() + interval '2 seconds' ELSE now() - interval '1 second' END WHERE recipient IN ($1, $2)",
      [held, crashed],
    );
    await mailbox.waitFor(crashed!, 1, 5_000);
    expect(mailbox.to(held!)).toHaveLength(0);
    await mailbox.waitFor(held!, 1, 10_000);
    // The mail arrives before its sender records it SENT: wait for the record.
    await vi.waitFor(
      async () => {
        const { rows } = await db.query('SELECT status, attempt_count FROM outbound_mails WHERE recipient IN ($1, $2)', [held, crashed]);
        expect(rows).toEqual([
          { status: 'SENT', attempt_count: 2 },
          { status: 'SENT', attempt_count: 2 },
        ]);
      },
      { timeout: 5_000, interval: 50 },
    );
    await Promise.all(apps.splice(0).map((instance) => instance.close()));
  });

  it('gives a mail up as FAILED after MAIL_MAX_ATTEMPTS, with every attempt counted and the last error kept', async () => {
    // Port 1: nothing listens there (a port freed by a server of this test could be taken by
    // another test file's SMTP server running in parallel, which would accept the mail).
    const app = await createTestApp({
      database,
      env: { SMTP_URL: 'smtp://127.0.0.1:1', MAIL_MAX_ATTEMPTS: '3', MAIL_RETRY_BASE_MS: '50', MAIL_RETRY_MAX_MS: '100' },
    });
    apps.push(app);
    const [email] = await queueMails(app.app, 1);
    await vi.waitFor(
      async () => {
        const { rows } = await db.query('SELECT status, attempt_count, last_error, completed_at FROM outbound_mails WHERE recipient = $1', [email]);
        expect(rows[0]).toMatchObject({
          status: 'FAILED',
          attempt_count: 3,
          last_error: expect.stringMatching(/ECONNREFUSED|ECONNECTION|ESOCKET/),
          completed_at: expect.any(Date),
        });
      },
      { timeout: 5_000, interval: 50 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await db.query('SELECT attempt_count FROM outbound_mails WHERE recipient = $1', [email])).rows).toEqual([{ attempt_count: 3 }]);
  });

  it('purges SENT and FAILED mails MAIL_RETENTION_DAYS after they ended; pending ones stay, however old', async () => {
    const app = apps.at(-1)!;
    const insert = (status: string, completed: string | null, created = "now() - interval '40 days'") =>
      db.query(
        `INSERT INTO outbound_mails (id, recipient, template, language, params_sealed, status, next_attempt_at, created_at, completed_at)
         VALUES ($1, $2, 'twoFactorEnabled', 'en', 'v1.x.y.z', $3, ${status === 'PENDING' ? "now() + interval '1 day'" : 'NULL'}, ${created}, ${completed ?? 'NULL'})`,
        [newId('eml'), `old-${unique()}@example.com`, status],
      );
    await insert('SENT', "now() - interval '31 days'");
    await insert('FAILED', "now() - interval '31 days'");
    await insert('SENT', "now() - interval '29 days'");
    await insert('PENDING', null);
    const before = await db.query("SELECT count(*)::int AS n FROM outbound_mails WHERE created_at < now() - interval '39 days'");
    expect(before.rows[0].n).toBe(4);
    await app.app.get(Retention).run('mails sent or given up over MAIL_RETENTION_DAYS ago');
    const after = await db.query("SELECT status FROM outbound_mails WHERE created_at < now() - interval '39 days' ORDER BY status");
    expect(after.rows).toEqual([{ status: 'PENDING' }, { status: 'SENT' }]);
  });
});
