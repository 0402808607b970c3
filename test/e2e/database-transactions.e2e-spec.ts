import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, createPool, Database } from '../../src/db/database';
import { createTestDatabase, TestDatabase } from '../helpers/test-app';

describe('database transactions', () => {
  let database: TestDatabase;
  let pool: ReturnType<typeof createPool>;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase('tx');
    pool = createPool({ url: database.url, max: 1 });
    db = createDatabase(pool);
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it('give the connection back when BEGIN itself fails (drizzle 0.45 kept it, draining the pool)', async () => {
    // A BEGIN the server refuses stands in for one sent on a connection that died while idle.
    const refused = { isolationLevel: 'no such level' } as unknown as Parameters<Database['transaction']>[1];
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(db.transaction(() => Promise.resolve('never'), refused)).rejects.toThrow();
      expect(pool.totalCount - pool.idleCount, 'connections still checked out').toBe(0);
    }
    // The only connection of the pool is usable again, for a transaction and a plain query.
    await expect(db.transaction(async (tx) => (await tx.execute('SELECT 1 AS one')).rows[0])).resolves.toEqual({ one: 1 });
    await expect(db.execute('SELECT 2 AS two')).resolves.toMatchObject({ rows: [{ two: 2 }] });
  });

  it('commit and roll back as before', async () => {
    await db.execute('CREATE TABLE IF NOT EXISTS tx_probe (n int)');
    await db.transaction(async (tx) => {
      await tx.execute('INSERT INTO tx_probe VALUES (1)');
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.execute('INSERT INTO tx_probe VALUES (2)');
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect((await db.execute('SELECT array_agg(n) AS ns FROM tx_probe')).rows[0]).toEqual({ ns: [1] });
  });
});
