import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, ilike, ne, sql } from 'drizzle-orm';
import { containsPattern } from '../../common/pagination';
import { Database, DB, Executor, Transaction } from '../../db/database';
import { users } from '../../db/schema';
import { isUniqueViolation } from '../../db/unique-violation';

export type UserRow = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type AccessChange = Partial<Pick<UserRow, 'role' | 'status'>>;

@Injectable()
export class UsersRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** Inserts a user unless its email is taken in any case: the unique index decides, race-free. */
  create(user: NewUser): Promise<{ outcome: 'created'; user: UserRow } | { outcome: 'email-taken' }> {
    return this.createIn(this.db, user);
  }

  /** `create` inside a caller's transaction, where a taken email also aborts that transaction. */
  async createIn(tx: Executor, user: NewUser): Promise<{ outcome: 'created'; user: UserRow } | { outcome: 'email-taken' }> {
    try {
      const [row] = await tx.insert(users).values(user).returning();
      return { outcome: 'created', user: row! };
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_key')) return { outcome: 'email-taken' };
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

  async update(
    id: string,
    changes: Partial<Pick<UserRow, 'firstName' | 'middleName' | 'lastName' | 'language' | 'locale' | 'timezone' | 'passwordHash' | 'emailVerifiedAt'>>,
  ): Promise<UserRow | undefined> {
    const [row] = await this.db.update(users).set(changes).where(eq(users.id, id)).returning();
    return row;
  }

  /** Reads the user with this email (in any case) under an update lock, as lockById does. */
  async lockByEmail(tx: Transaction, email: string): Promise<UserRow | undefined> {
    const [row] = await tx.select().from(users).where(eq(users.email, email)).for('update');
    return row;
  }

  /**
   * The row goes to whoever has just proven its email elsewhere (an OIDC provider): its password
   * goes, its email is verified at `now`, and an INACTIVE user becomes ACTIVE.
   */
  async reclaim(tx: Transaction, id: string, now: Date): Promise<UserRow | undefined> {
    const [row] = await tx
      .update(users)
      .set({
        passwordHash: null,
        emailVerifiedAt: now,
        status: sql`CASE WHEN ${users.status} = 'INACTIVE' THEN 'ACTIVE'::user_status ELSE ${users.status} END`,
      })
      .where(eq(users.id, id))
      .returning();
    return row;
  }

  /** Reads a user under an update lock: it also orders a change against refresh-token rotation. */
  async lockById(tx: Transaction, id: string): Promise<UserRow | undefined> {
    const [row] = await tx.select().from(users).where(eq(users.id, id)).for('update');
    return row;
  }

  /**
   * One lock for every change that may leave no ACTIVE ADMIN, held to the end of the transaction:
   * two ADMINs demoting each other at once then count one after the other.
   */
  async lockAdminCount(tx: Transaction): Promise<void> {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('gatehouse:last-admin'))`);
  }

  async countActiveAdmins(tx: Transaction, filter: { except: string }): Promise<number> {
    const [admins] = await tx
      .select({ count: count() })
      .from(users)
      .where(and(eq(users.role, 'ADMIN'), eq(users.status, 'ACTIVE'), ne(users.id, filter.except)));
    return admins?.count ?? 0;
  }

  async setAccess(tx: Transaction, id: string, change: AccessChange): Promise<UserRow | undefined> {
    const [row] = await tx.update(users).set(change).where(eq(users.id, id)).returning();
    return row;
  }

  async setPassword(tx: Transaction, id: string, passwordHash: string): Promise<UserRow | undefined> {
    const [row] = await tx.update(users).set({ passwordHash }).where(eq(users.id, id)).returning();
    return row;
  }

  /** An INACTIVE user becomes ACTIVE, its email verified at `now`; any other status stays. */
  async activate(tx: Transaction, id: string, now: Date): Promise<void> {
    await tx
      .update(users)
      .set({ status: 'ACTIVE', emailVerifiedAt: now })
      .where(and(eq(users.id, id), eq(users.status, 'INACTIVE')));
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.findByIdIn(this.db, id);
  }

  /** `findById` as a step of the caller's transaction (a mail queued with its change reads its recipient there). */
  async findByIdIn(tx: Executor, id: string): Promise<UserRow | undefined> {
    const [row] = await tx.select().from(users).where(eq(users.id, id)).limit(1);
    return row;
  }
}
