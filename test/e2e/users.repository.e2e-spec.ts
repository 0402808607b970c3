import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, createPool, Database } from '../../src/db/database';
import { UsersRepository } from '../../src/modules/users/users.repository';
import { createTestDatabase, TestDatabase } from '../helpers/test-app';
import type { Pool } from 'pg';

/** Repository tier: the real SQL on a real Postgres, without the HTTP layer. */
describe('UsersRepository', () => {
  let database: TestDatabase;
  let pool: Pool;
  let db: Database;
  let users: UsersRepository;
  beforeAll(async () => {
    database = await createTestDatabase('users-repo');
    pool = createPool({ url: database.url, max: 4 });
    db = createDatabase(pool);
    users = new UsersRepository(db);
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  const newUser = (email: string) => ({ email, passwordHash: 'h', firstName: 'A', lastName: 'B', locale: 'en', timezone: 'UTC' });

  it('creates a user with a usr_ TypeID and the documented defaults', async () => {
    const result = await users.create(newUser('Repo@Example.com'));
    if (result.outcome !== 'created') throw new Error(`expected created, got ${result.outcome}`);
    const { user } = result;
    expect(user.id).toMatch(/^usr_/);
    expect(user).toMatchObject({ role: 'USER', status: 'INACTIVE', language: 'en', emailVerifiedAt: null });
    expect((await users.findByEmail('repo@example.COM'))?.id).toBe(user.id);
  });

  it('lets exactly one of concurrent registrations of one email (in any case) through; the others learn the email is taken', async () => {
    const results = await Promise.all(
      ['race@example.com', 'RACE@example.com', 'Race@Example.com', 'race@EXAMPLE.com'].map((email) => users.create(newUser(email))),
    );
    expect(results.map((result) => result.outcome).sort()).toEqual(['created', 'email-taken', 'email-taken', 'email-taken']);
    const [{ count }] = (await pool.query<{ count: string }>(`SELECT count(*) FROM users WHERE lower(email) = 'race@example.com'`)).rows as [{ count: string }];
    expect(count).toBe('1');
  });
});
