import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, ilike, isNull } from 'drizzle-orm';
import { pgErrorCode } from '../../common/errors/classify-error';
import { DomainError } from '../../common/errors/domain-error';
import { containsPattern } from '../../common/pagination';
import { Database, DB } from '../../db/database';
import { refreshTokens, users } from '../../db/schema';

export type UserRow = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;

@Injectable()
export class UsersRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** Inserts a user; an email already taken in any case is USER_EXISTS (the unique index decides, race-free). */
  async create(user: NewUser): Promise<UserRow> {
    try {
      const [row] = await this.db.insert(users).values(user).returning();
      return row!;
    } catch (error) {
      if (pgErrorCode(error) === '23505') throw new DomainError('USER_EXISTS', { cause: error });
      throw error;
    }
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.email, email)).limit(1);
    return row;
  }

  async list(filter: { email?: string; status?: UserRow['status']; cursor?: string; limit: number }): Promise<UserRow[]> {
    return this.db
      .select()
      .from(users)
      .where(
        and(
          filter.email ? ilike(users.email, containsPattern(filter.email)) : undefined,
          filter.status ? eq(users.status, filter.status) : undefined,
          filter.cursor ? gt(users.id, filter.cursor) : undefined,
        ),
      )
      .orderBy(asc(users.id))
      .limit(filter.limit + 1);
  }

  async update(id: string, changes: Partial<Pick<UserRow, 'firstName' | 'middleName' | 'lastName' | 'language' | 'locale' | 'timezone' | 'role' | 'passwordHash' | 'emailVerifiedAt'>>): Promise<UserRow | undefined> {
    const [row] = await this.db.update(users).set(changes).where(eq(users.id, id)).returning();
    return row;
  }

  /**
   * Sets the status; SUSPENDED (or `revokeSessions`) also revokes every refresh token of the user,
   * in the same transaction. The row lock the UPDATE takes orders this against token rotation.
   */
  async setStatus(id: string, status: UserRow['status'], now: Date, options: { revokeSessions?: boolean } = {}): Promise<UserRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.update(users).set({ status }).where(eq(users.id, id)).returning();
      if (row && (status === 'SUSPENDED' || options.revokeSessions)) {
        await tx
          .update(refreshTokens)
          .set({ revokedAt: now })
          .where(and(eq(refreshTokens.userId, id), isNull(refreshTokens.revokedAt)));
      }
      return row;
    });
  }

  async findById(id: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return row;
  }
}
