import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, ilike, isNull, ne, sql } from 'drizzle-orm';
import { pgErrorCode } from '../../common/errors/classify-error';
import { DomainError } from '../../common/errors/domain-error';
import { containsPattern } from '../../common/pagination';
import { Database, DB } from '../../db/database';
import { refreshTokens, users } from '../../db/schema';

export type UserRow = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type AccessChange = Partial<Pick<UserRow, 'role' | 'status'>>;
export type AccessChangeResult = { outcome: 'changed'; user: UserRow } | { outcome: 'not-found' } | { outcome: 'last-admin' };

const isActiveAdmin = (user: Pick<UserRow, 'role' | 'status'>) => user.role === 'ADMIN' && user.status === 'ACTIVE';

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

  async update(id: string, changes: Partial<Pick<UserRow, 'firstName' | 'middleName' | 'lastName' | 'language' | 'locale' | 'timezone' | 'passwordHash' | 'emailVerifiedAt'>>): Promise<UserRow | undefined> {
    const [row] = await this.db.update(users).set(changes).where(eq(users.id, id)).returning();
    return row;
  }

  /**
   * Changes a user's role or status, and with `revokeSessions` revokes every refresh token of the
   * user in the same transaction (the user row lock orders this against token rotation). A change
   * that would leave no ACTIVE ADMIN is not made ('last-admin'): such changes take one advisory
   * lock before counting, so two ADMINs demoting each other cannot both succeed.
   */
  async setAccess(id: string, change: AccessChange, now: Date, options: { revokeSessions: boolean }): Promise<AccessChangeResult> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(users).where(eq(users.id, id)).for('update');
      if (!current) return { outcome: 'not-found' };
      if (isActiveAdmin(current) && !isActiveAdmin({ ...current, ...change })) {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('gatehouse:last-admin'))`);
        const [others] = await tx
          .select({ count: count() })
          .from(users)
          .where(and(eq(users.role, 'ADMIN'), eq(users.status, 'ACTIVE'), ne(users.id, id)));
        if (!others?.count) return { outcome: 'last-admin' };
      }
      const [row] = await tx.update(users).set(change).where(eq(users.id, id)).returning();
      if (options.revokeSessions) {
        await tx
          .update(refreshTokens)
          .set({ revokedAt: now })
          .where(and(eq(refreshTokens.userId, id), isNull(refreshTokens.revokedAt)));
      }
      return { outcome: 'changed', user: row! };
    });
  }

  async findById(id: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return row;
  }
}
