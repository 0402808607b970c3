import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/common/errors/domain-error';
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
    const user = await users.create(newUser('Repo@Example.com'));
    expect(user.id).toMatch(/^usr_/);
    expect(user).toMatchObject({ role: 'USER', status: 'INACTIVE', language: 'en', emailVerifiedAt: null });
    expect((await users.findByEmail('repo@example.COM'))?.id).toBe(user.id);
  });

  it('lets exactly one of concurrent registrations of one email (in any case) through', async () => {
    const results = await Promise.allSettled(['race@example.com', 'RACE@example.com', 'Race@Example.com', 'race@EXAMPLE.com'].map((email) => users.create(newUser(email))));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect((result).reason).toBeInstanceOf(DomainError);
      expect((result).reason.code).toBe('USER_EXISTS');
    }
  });
});
