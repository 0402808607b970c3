import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sql } from 'drizzle-orm';
import { NodePgTransaction } from 'drizzle-orm/node-postgres';
import { describe, expect, it } from 'vitest';
import { DB, Database } from '../../src/db/database';
import { insertUser } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

/**
 * createDatabase (src/db/database.ts) runs drizzle's transaction object on a connection it
 * manages, through drizzle's private API. These fail when that API changes shape, so an upgrade
 * cannot silently break every transaction.
 */
describe('the private drizzle API behind createDatabase (medium)', () => {
  const ctx = useTestApp();
  const db = () => ctx.t.app.get<Database>(DB);

  it('is the drizzle-orm version database.ts was checked against (re-read it before changing this)', () => {
    const root = dirname(require.resolve('drizzle-orm'));
    const installed = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(installed).toBe('0.45.4');
  });

  it('still has the relational metadata database.ts reuses for every transaction', () => {
    const { schema, fullSchema, tableNamesMap } = db()._;
    expect(schema?.users).toBeTypeOf('object');
    expect(fullSchema.users).toBeTypeOf('object');
    expect(Object.values(tableNamesMap)).toContain('users');
  });

  // The constructors' shapes: a transaction built with them answers relational queries (schema passed through) and runs on the client.
  it('runs a transaction on the managed connection: relational queries, commit and rollback', async () => {
    const user = await insertUser(ctx.db);
    const found = await db().transaction(async (tx) => {
      expect(tx).toBeInstanceOf(NodePgTransaction);
      return tx.query.users.findMany({ columns: { id: true } });
    });
    expect(found.map((row) => row.id)).toContain(user.id);

    await expect(
      db().transaction(async (tx) => {
        await tx.execute(sql`UPDATE users SET middle_name = 'rolled back' WHERE id = ${user.id}`);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    await db().transaction((tx) => tx.execute(sql`UPDATE users SET middle_name = 'committed' WHERE id = ${user.id}`));
    expect((await ctx.db.query('SELECT middle_name FROM users WHERE id = $1', [user.id])).rows).toEqual([{ middle_name: 'committed' }]);
  });
});
