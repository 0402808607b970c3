import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { login, registerUser } from '../factories/users';
import { createTestApp, createTestDatabase, TestDatabase } from '../helpers/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');

/** The real `npm run create-admin` script in a child process, with `stdin` piped to it. */
function createAdmin(args: string[], stdin: string, databaseUrl: string | undefined, env: Record<string, string> = {}) {
  const { DATABASE_URL: _, ...inherited } = process.env;
  const child = run(process.execPath, ['-r', '@swc-node/register', 'src/modules/auth/create-admin.cli.ts', ...args], {
    cwd: ROOT,
    env: { ...inherited, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...env },
  });
  child.child.stdin!.end(stdin);
  return child;
}

/** Its output is the server's: one pino JSON line each, with a numeric level and `msg`. */
function lines(output: string): { level: number; msg: string; context?: string }[] {
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: number; msg: string; context?: string });
}

/** A refusal: exit code 1 and a fatal line (level 60) saying why. */
async function refusal(pending: ReturnType<typeof createAdmin>): Promise<{ code: number; fatal: string | undefined }> {
  const failure = await pending.then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  );
  return { code: failure.code, fatal: lines(failure.stdout).find((line) => line.level === 60)?.msg };
}

describe('admin bootstrap', () => {
  // Not useTestApp: each test boots (and reboots) its own apps on one database, to see what startup does.
  let database: TestDatabase;
  let db: Client;
  beforeAll(async () => {
    database = await createTestDatabase('admin');
    db = new Client({ connectionString: database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  it('makes sure ADMIN_EMAIL exists as an ACTIVE ADMIN at startup, once however often it starts', async () => {
    const env = { ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'root password of some length' };
    for (let boot = 0; boot < 2; boot++) {
      const t = await createTestApp({ database, env });
      await t.close();
    }
    const { rows } = await db.query("SELECT role, status, email_verified_at IS NOT NULL AS verified FROM users WHERE email = 'root@example.com'");
    expect(rows).toEqual([{ role: 'ADMIN', status: 'ACTIVE', verified: true }]);
    const t = await createTestApp({ database });
    try {
      const session = await login(t.app, 'root@example.com', 'root password of some length');
      expect(session.body.user).toMatchObject({ role: 'ADMIN', status: 'ACTIVE' });
    } finally {
      await t.close();
    }
  });

  it('does not promote an existing non-admin who registered ADMIN_EMAIL first', async () => {
    const first = await createTestApp({ database });
    let userId: string;
    try {
      userId = (await registerUser(first.app, { email: 'squatter@example.com' })).user.id;
    } finally {
      await first.close();
    }
    const t = await createTestApp({ database, env: { ADMIN_EMAIL: 'squatter@example.com', ADMIN_PASSWORD: 'root password of some length' } });
    await t.close();
    const { rows } = await db.query('SELECT role, status FROM users WHERE id = $1', [userId]);
    expect(rows[0]).toEqual({ role: 'USER', status: 'INACTIVE' });
  });

  it('npm run create-admin promotes an existing user, sets its password (read from stdin) and ends its old sessions', async () => {
    const t = await createTestApp({ database });
    try {
      const { input } = await registerUser(t.app);
      const before = await login(t.app, input.email);
      const { stdout } = await createAdmin(['--email', input.email], 'a new admin passphrase\n', database.url);
      expect(lines(stdout)).toContainEqual(expect.objectContaining({ level: 30, context: 'create-admin', msg: `Updated ADMIN ${input.email}` }));
      const session = await login(t.app, input.email, 'a new admin passphrase');
      expect(session.body.user).toMatchObject({ role: 'ADMIN', status: 'ACTIVE' });
      const stale = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: JSON.stringify({ refreshToken: before.refreshToken }),
        headers: { 'content-type': 'application/json' },
      });
      expect(stale.statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('create-admin refuses a common password', async () => {
    expect(await refusal(createAdmin(['--email', 'x@example.com'], 'password123\n', database.url))).toEqual({
      code: 1,
      fatal: expect.stringContaining('This password is too common'),
    });
  });

  it('create-admin refuses a password on the command line, which npm echoes, and changes nothing', async () => {
    const email = 'argv-admin@example.com';
    expect(await refusal(createAdmin(['--email', email, '--password', 'an argv admin passphrase'], '', database.url))).toEqual({
      code: 1,
      fatal: expect.stringContaining('--password is not accepted'),
    });
    const { rows } = await db.query('SELECT id FROM users WHERE email = $1', [email]);
    expect(rows).toEqual([]);
    expect(await refusal(createAdmin(['--email', email], '', database.url))).toEqual({ code: 1, fatal: expect.stringContaining('No password on stdin') });
  });

  it('create-admin keeps a piped password exactly, spaces included', async () => {
    const email = 'spaced-admin@example.com';
    const { stdout } = await createAdmin(['--email', email], '  spaced admin passphrase  \r\n', database.url);
    expect(lines(stdout).map((line) => line.msg)).toContain(`Created ADMIN ${email}`);
    const t = await createTestApp({ database });
    try {
      expect((await login(t.app, email, '  spaced admin passphrase  ')).body.user.role).toBe('ADMIN');
    } finally {
      await t.close();
    }
  });

  it(
    'issue 22: create-admin works while a server keeps the embedded Postgres running: it uses that database and leaves it running',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-embedded-'));
      chmodSync(dir, 0o755);
      // What `npm start` keeps running: the embedded cluster in EMBEDDED_POSTGRES_DIR, its `gatehouse` database.
      const embedded = await startEmbeddedPostgres({ dir: join(dir, 'pg'), port: 0, database: 'gatehouse' });
      try {
        const { stdout } = await createAdmin(['--email', 'embedded-admin@example.com'], 'an embedded admin passphrase\n', undefined, {
          EMBEDDED_POSTGRES_DIR: join(dir, 'pg'),
        });
        expect(lines(stdout).map((line) => line.msg)).toContain('Created ADMIN embedded-admin@example.com');
        const client = new Client({ connectionString: embedded.url });
        await client.connect();
        try {
          const { rows } = await client.query("SELECT role, status FROM users WHERE email = 'embedded-admin@example.com'");
          expect(rows).toEqual([{ role: 'ADMIN', status: 'ACTIVE' }]);
        } finally {
          await client.end();
        }
      } finally {
        await embedded.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
