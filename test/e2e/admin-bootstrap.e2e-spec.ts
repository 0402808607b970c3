import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, registerUser } from '../factories/users';
import { createTestApp, createTestDatabase, TestDatabase } from '../helpers/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');

/** The real `npm run create-admin` script in a child process, with `stdin` piped to it. */
function createAdmin(args: string[], stdin: string, databaseUrl: string) {
  const child = run(process.execPath, ['-r', '@swc-node/register', 'src/modules/auth/create-admin.cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'error' },
  });
  child.child.stdin!.end(stdin);
  return child;
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
      expect(stdout).toContain(`Updated ADMIN ${input.email}`);
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
    const failure = await createAdmin(['--email', 'x@example.com'], 'password123\n', database.url).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('This password is too common') });
  });

  it('create-admin refuses a password on the command line, which npm echoes, and changes nothing', async () => {
    const email = 'argv-admin@example.com';
    const failure = await createAdmin(['--email', email, '--password', 'an argv admin passphrase'], '', database.url).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('--password is not accepted') });
    const { rows } = await db.query('SELECT id FROM users WHERE email = $1', [email]);
    expect(rows).toEqual([]);
    const empty = await createAdmin(['--email', email], '', database.url).catch((error: { code: number; stderr: string }) => error);
    expect(empty).toMatchObject({ code: 1, stderr: expect.stringContaining('No password on stdin') });
  });

  it('create-admin keeps a piped password exactly, spaces included', async () => {
    const email = 'spaced-admin@example.com';
    const { stdout } = await createAdmin(['--email', email], '  spaced admin passphrase  \r\n', database.url);
    expect(stdout).toContain(`Created ADMIN ${email}`);
    const t = await createTestApp({ database });
    try {
      expect((await login(t.app, email, '  spaced admin passphrase  ')).body.user.role).toBe('ADMIN');
    } finally {
      await t.close();
    }
  });
});
