import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate';
import { createEmptyTestDatabase, createTestApp, TestDatabase } from '../helpers/test-app';

const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };

describe('migrations at startup', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  it('two instances booting together against an empty database both come up, and each migration runs once', async () => {
    const database = await createEmptyTestDatabase('migrate');
    databases.push(database);

    const [first, second] = await Promise.all([
      createTestApp({ database, migrate: true }),
      createTestApp({ database, migrate: true }),
    ]);
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
