import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, registerUser } from '../factories/users';
import { createTestApp, createTestDatabase, TestDatabase } from '../helpers/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');

describe('admin bootstrap', () => {
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

  it('npm run create-admin promotes an existing user, sets its password and ends its old sessions', async () => {
    const t = await createTestApp({ database });
    try {
      const { input } = await registerUser(t.app);
      const before = await login(t.app, input.email);
      const { stdout } = await run(
        process.execPath,
        ['-r', '@swc-node/register', 'src/modules/auth/create-admin.cli.ts', '--email', input.email, '--password', 'a new admin passphrase'],
        { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'error' } },
      );
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
    const failure = await run(
      process.execPath,
      ['-r', '@swc-node/register', 'src/modules/auth/create-admin.cli.ts', '--email', 'x@example.com', '--password', 'password123'],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'error' } },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('This password is too common') });
  });
});
