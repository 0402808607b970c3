import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, ne } from 'drizzle-orm';
import { Database, DB, Executor, Transaction } from '../../db/database';
import { ownerCondition, OwnerScope } from '../../db/owner-scope';
import { userIdentities } from '../../db/schema';
import { isUniqueViolation } from '../../db/unique-violation';

export type UserIdentityRow = typeof userIdentities.$inferSelect;
export type NewUserIdentity = typeof userIdentities.$inferInsert;

/** The one owner of user_identities. */
@Injectable()
export class UserIdentitiesRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  async findBySubject(tx: Executor, provider: string, subject: string): Promise<UserIdentityRow | undefined> {
    const [row] = await tx
      .select()
      .from(userIdentities)
      .where(and(eq(userIdentities.provider, provider), eq(userIdentities.subject, subject)))
      .limit(1);
    return row;
  }

  /**
   * Links an identity unless `(provider, subject)` is already linked (a concurrent first sign-in
   * won): the unique index decides, and the caller's transaction is then aborted.
   */
  async insert(tx: Transaction, identity: NewUserIdentity): Promise<{ outcome: 'linked'; identity: UserIdentityRow } | { outcome: 'already-linked' }> {
    try {
      const [row] = await tx.insert(userIdentities).values(identity).returning();
      return { outcome: 'linked', identity: row! };
    } catch (error) {
      if (isUniqueViolation(error, 'user_identities_provider_subject_key')) return { outcome: 'already-linked' };
      throw error;
    }
  }

  async listOwned(scope: OwnerScope): Promise<UserIdentityRow[]> {
    return this.db
      .select()
      .from(userIdentities)
      .where(ownerCondition(userIdentities.userId, scope))
      .orderBy(asc(userIdentities.createdAt), asc(userIdentities.id));
  }

  async findOwned(tx: Transaction, scope: OwnerScope, id: string): Promise<UserIdentityRow | undefined> {
    const [row] = await tx.select().from(userIdentities).where(owned(scope, id)).limit(1);
    return row;
  }

  async countOwned(tx: Transaction, userId: string): Promise<number> {
    const [owned] = await tx.select({ count: count() }).from(userIdentities).where(eq(userIdentities.userId, userId));
    return owned?.count ?? 0;
  }

  /** Unlinks every identity of the user but `keep` (a reclaimed account keeps only the way in that reclaimed it). */
  async deleteAllOf(tx: Transaction, userId: string, keep?: { except: string }): Promise<void> {
    await tx.delete(userIdentities).where(and(eq(userIdentities.userId, userId), keep ? ne(userIdentities.id, keep.except) : undefined));
  }

  async deleteOwned(tx: Transaction, scope: OwnerScope, id: string): Promise<void> {
    await tx.delete(userIdentities).where(owned(scope, id));
  }
}

const owned = (scope: OwnerScope, id: string) => and(eq(userIdentities.id, id), ownerCondition(userIdentities.userId, scope));
