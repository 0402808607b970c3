import { Inject, Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { pgErrorCode } from '../../common/errors/classify-error';
import { DomainError } from '../../common/errors/domain-error';
import { Database, DB } from '../../db/database';
import { users } from '../../db/schema';

export type UserRow = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;

@Injectable()
export class UsersRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** Inserts a user; an email already taken in any case is USER_EXISTS (the unique index decides, race-free). */
  async create(user: NewUser): Promise<UserRow> {
    try {
      const [row] = await this.db.insert(users).values(user).returning();
      return row;
    } catch (error) {
      if (pgErrorCode(error) === '23505') throw new DomainError('USER_EXISTS', { cause: error });
      throw error;
    }
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.email, email)).limit(1);
    return row;
  }

  async findById(id: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return row;
  }
}
