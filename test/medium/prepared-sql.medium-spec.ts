import { sql } from 'drizzle-orm';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedSql } from '../../src/db/prepared-sql';
import { users } from '../../src/db/schema';
import { insertUser } from '../factories/users';
import { createTestDatabase, TestDatabase } from '../helpers/test-app';

/** PreparedSql (src/db/prepared-sql.ts): a raw drizzle statement built once, run as a named pg statement. */
describe('PreparedSql (medium)', () => {
  let database: TestDatabase;
  let client: Client;
  beforeAll(async () => {
    database = await createTestDatabase('prepared');
    client = new Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await database.drop();
  });

  const emails = new PreparedSql(
    'test_emails_of',
    sql`SELECT email FROM ${users} WHERE id = ANY(${sql.placeholder('ids')}::text[]) AND email LIKE ${sql.placeholder('like')} ORDER BY email`,
  );

  it('runs with each call its own values, under one name the server prepared once for the connection', async () => {
    const [a, b] = [await insertUser(client, { email: 'a-prepared@example.com' }), await insertUser(client, { email: 'b-prepared@example.com' })];
    const first = await client.query(emails.query({ ids: [a.id, b.id], like: '%prepared%' }));
    expect(first.rows).toEqual([{ email: 'a-prepared@example.com' }, { email: 'b-prepared@example.com' }]);
    const second = await client.query(emails.query({ ids: [b.id], like: 'b-%' }));
    expect(second.rows).toEqual([{ email: 'b-prepared@example.com' }]);

    const prepared = await client.query("SELECT name, statement FROM pg_prepared_statements WHERE name = 'test_emails_of'");
    expect(prepared.rows).toHaveLength(1);
    expect(prepared.rows[0].statement).toMatch(/^SELECT email FROM "users" WHERE id = ANY\(\$1::text\[\]\) AND email LIKE \$2/);
  });

  it('refuses a call that leaves a placeholder without a value, before anything is sent', () => {
    expect(() => emails.query({ ids: [] })).toThrow(/like/);
  });
});
