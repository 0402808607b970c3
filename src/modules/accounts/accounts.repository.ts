import { Inject, Injectable } from '@nestjs/common';
import { and, eq, getTableColumns, lt, sql } from 'drizzle-orm';
import { hashesEqual } from '../../common/crypto/secret-token';
import { Database, DB, Transaction } from '../../db/database';
import { ownerCondition, OwnerScope } from '../../db/owner-scope';
import { accounts, phoneSendCounts } from '../../db/schema';

export type AccountRow = typeof accounts.$inferSelect;
export type AccountDetails = Pick<AccountRow, 'accountType' | 'mobilePhone' | 'address' | 'company' | 'industry'>;
export type PhoneReservation =
  { outcome: 'reserved'; account: AccountRow } | { outcome: 'not-found' } | { outcome: 'account-limit'; windowEndsAt: Date } | { outcome: 'number-limit' };
export type TokenOutcome<T> = { outcome: 'ok'; account: T } | { outcome: 'not-found' | 'invalid' | 'expired' };

/**
 * Every query is scoped by the owner: (OwnerScope, accountId), never accountId alone. The one
 * exception is lockByEmailToken: there the mailed token is the credential, not a login.
 */
@Injectable()
export class AccountsRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  findByUser(userId: string): Promise<AccountRow | undefined> {
    return this.db.query.accounts.findFirst({ where: eq(accounts.userId, userId) });
  }

  /**
   * Creates the user's account, or refreshes it and its email token while it is still PENDING,
   * in one statement (concurrent requests for one user cannot create two). Nothing is returned
   * when the account exists and is no longer PENDING.
   */
  async upsertPending(tx: Transaction, userId: string, details: AccountDetails, token: { hash: string; expiresAt: Date }) {
    const [row] = await tx
      .insert(accounts)
      .values({ userId, ...details, emailTokenHash: token.hash, emailTokenExpiresAt: token.expiresAt })
      .onConflictDoUpdate({
        target: accounts.userId,
        set: {
          ...details,
          emailTokenHash: token.hash,
          emailTokenExpiresAt: token.expiresAt,
          // A new number must be verified again, and a code texted to the old one is void.
          phoneVerified: sql`CASE WHEN ${accounts.mobilePhone} = excluded.mobile_phone THEN ${accounts.phoneVerified} ELSE false END`,
          phoneCodeHash: sql`CASE WHEN ${accounts.mobilePhone} = excluded.mobile_phone THEN ${accounts.phoneCodeHash} ELSE NULL END`,
        },
        setWhere: eq(accounts.status, 'PENDING'),
      })
      .returning({ ...getTableColumns(accounts), created: sql<boolean>`(xmax = 0)` });
    if (!row) return undefined;
    const { created, ...account } = row;
    return { account, created };
  }

  /**
   * The account a mailed activation token names (its id part), under an update lock, so that two
   * uses of one token are serialized and only the first finds it PENDING. The caller must check
   * the token's secret against the row before acting on it.
   */
  async lockByEmailToken(tx: Transaction, accountId: string): Promise<AccountRow | undefined> {
    const [account] = await tx.select().from(accounts).where(eq(accounts.id, accountId)).for('update');
    return account;
  }
  /** The user's own account, locked for the rest of the caller's transaction (phone codes are counted under it). */
  private async lockOwned(tx: Transaction, scope: OwnerScope, accountId: string): Promise<AccountRow | undefined> {
    const [account] = await tx.select().from(accounts).where(owned(scope, accountId)).for('update');
    return account;
  }

  /**
   * The account becomes ACTIVE with its email verified. The token's hash stays, without an expiry:
   * the status spends it, and a second use of the same link can be told apart from a wrong token.
   */
  async activate(tx: Transaction, scope: OwnerScope, accountId: string): Promise<AccountRow> {
    const [activated] = await tx
      .update(accounts)
      .set({ status: 'ACTIVE', emailVerified: true, emailTokenExpiresAt: null })
      .where(owned(scope, accountId))
      .returning();
    return activated!;
  }

  /**
   * Stores a new phone code if the account sent fewer than `perAccount.maxSends` in its current
   * window and its number got fewer than `perNumberPerDay` texts on this UTC day. The account row
   * lock serializes one account's requests; the number's counter is a conditional upsert, so
   * accounts sharing a number cannot exceed its limit either. A refusal changes no counter. The
   * lock holds to the end of the caller's transaction.
   */
  async reservePhoneCode(
    tx: Transaction,
    scope: OwnerScope,
    accountId: string,
    code: { hash: string; expiresAt: Date },
    limits: { perAccount: { maxSends: number; windowSeconds: number }; perNumberPerDay: number },
    now: Date,
  ): Promise<PhoneReservation> {
    const account = await this.lockOwned(tx, scope, accountId);
    if (!account) return { outcome: 'not-found' };
    const windowOpen = account.phoneSendWindowEndsAt !== null && account.phoneSendWindowEndsAt > now;
    if (windowOpen && account.phoneSendsInWindow >= limits.perAccount.maxSends)
      return { outcome: 'account-limit', windowEndsAt: account.phoneSendWindowEndsAt! };
    const [counted] = await tx
      .insert(phoneSendCounts)
      .values({ mobilePhone: account.mobilePhone, day: now.toISOString().slice(0, 10), sends: 1 })
      .onConflictDoUpdate({
        target: [phoneSendCounts.mobilePhone, phoneSendCounts.day],
        set: { sends: sql`${phoneSendCounts.sends} + 1` },
        setWhere: sql`${phoneSendCounts.sends} < ${limits.perNumberPerDay}`,
      })
      .returning({ sends: phoneSendCounts.sends });
    if (!counted) return { outcome: 'number-limit' };
    const [reserved] = await tx
      .update(accounts)
      .set({
        phoneCodeHash: code.hash,
        phoneCodeExpiresAt: code.expiresAt,
        phoneCodeAttempts: 0,
        phoneSendsInWindow: windowOpen ? account.phoneSendsInWindow + 1 : 1,
        phoneSendWindowEndsAt: windowOpen ? account.phoneSendWindowEndsAt : new Date(now.getTime() + limits.perAccount.windowSeconds * 1000),
      })
      .where(eq(accounts.id, account.id))
      .returning();
    return { outcome: 'reserved', account: reserved! };
  }

  /** Drops per-number counters of days before `today` (a UTC date); only today's count matters. */
  async pruneDailyPhoneCounts(today: string): Promise<number> {
    const result = await this.db.delete(phoneSendCounts).where(lt(phoneSendCounts.day, today));
    return result.rowCount ?? 0;
  }

  /**
   * Checks a phone code; a wrong one counts, and the `maxAttempts`-th wrong one voids the code. The
   * account row stays locked to the end of the caller's transaction.
   */
  async verifyPhoneCode(
    tx: Transaction,
    scope: OwnerScope,
    accountId: string,
    codeHash: string,
    maxAttempts: number,
    now: Date,
  ): Promise<TokenOutcome<AccountRow>> {
    const account = await this.lockOwned(tx, scope, accountId);
    if (!account) return { outcome: 'not-found' };
    if (!account.phoneCodeHash) return { outcome: 'invalid' };
    if (!account.phoneCodeExpiresAt || account.phoneCodeExpiresAt <= now) return { outcome: 'expired' };
    if (!hashesEqual(codeHash, account.phoneCodeHash)) {
      const attempts = account.phoneCodeAttempts + 1;
      const voided = attempts >= maxAttempts;
      await tx
        .update(accounts)
        .set({ phoneCodeAttempts: attempts, ...(voided ? { phoneCodeHash: null, phoneCodeExpiresAt: null } : {}) })
        .where(eq(accounts.id, accountId));
      return { outcome: 'invalid' };
    }
    const [verified] = await tx
      .update(accounts)
      .set({ phoneVerified: true, phoneCodeHash: null, phoneCodeExpiresAt: null, phoneCodeAttempts: 0 })
      .where(eq(accounts.id, accountId))
      .returning();
    return { outcome: 'ok', account: verified! };
  }
}

const owned = (scope: OwnerScope, accountId: string) => and(eq(accounts.id, accountId), ownerCondition(accounts.userId, scope));
