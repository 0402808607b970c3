import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY, MIGRATIONS_FOLDER } from '../../src/db/migrate';
import { createEmptyTestDatabase, createTestApp, TestDatabase } from '../helpers/test-app';

const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };

describe('migrations at startup', () => {
  // Not useTestApp: each test boots its own apps on an empty database, to see the migrations run.
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  it('two instances booting together against an empty database both come up, and each migration runs once', async () => {
    const database = await createEmptyTestDatabase('migrate');
    databases.push(database);

    const [first, second] = await Promise.all([createTestApp({ database, migrate: true }), createTestApp({ database, migrate: true })]);
    try {
      for (const instance of [first, second]) {
        const response = await instance.app.inject({ method: 'GET', url: '/health/ready' });
        expect(response.statusCode).toBe(200);
      }
      const client = new Client({ connectionString: database.url });
      await client.connect();
      try {
        const applied = await client.query('SELECT hash FROM drizzle.__drizzle_migrations');
        expect(applied.rowCount).toBe(journal.entries.length);
        const extensions = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'citext'");
        expect(extensions.rowCount).toBe(1);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('waits for the migration lock held by another instance before migrating', async () => {
    const database = await createEmptyTestDatabase('lock');
    databases.push(database);
    const other = new Client({ connectionString: database.url });
    await other.connect();
    await other.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);

    let booted = false;
    const booting = createTestApp({ database, migrate: true }).then((app) => {
      booted = true;
      return app;
    });
    await new Promise((resolve) => setTimeout(resolve, 750));
    expect(booted).toBe(false);
    const before = await other.query("SELECT to_regclass('drizzle.__drizzle_migrations') AS table");
    expect(before.rows[0].table).toBeNull();

    await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    await other.end();
    const app = await booting;
    await app.close();
    expect(booted).toBe(true);
  });

  it('a restart against a migrated database applies nothing new', async () => {
    const database = await createEmptyTestDatabase('remigrate');
    databases.push(database);
    const first = await createTestApp({ database, migrate: true });
    await first.close();
    const again = await createTestApp({ database, migrate: true });
    await again.close();
    const client = new Client({ connectionString: database.url });
    await client.connect();
    const applied = await client.query('SELECT 1 FROM drizzle.__drizzle_migrations');
    await client.end();
    expect(applied.rowCount).toBe(journal.entries.length);
  });
});
