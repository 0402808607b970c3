import { Inject, Injectable } from '@nestjs/common';
import { and, eq, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { Database, DB, Transaction } from '../../db/database';
import { recoveryCodes, totpCredentials, twoFactorChallenges } from '../../db/schema';

export type TotpCredentialRow = typeof totpCredentials.$inferSelect;
export type TwoFactorChallengeRow = typeof twoFactorChallenges.$inferSelect;
export type ChallengePurpose = TwoFactorChallengeRow['purpose'];

/** A challenge is void after this many wrong codes, even for the right one. */
export const CHALLENGE_MAX_FAILURES = 5;

/** The TOTP authenticators, recovery codes and login challenges of two-factor login. */
@Injectable()
export class TwoFactorRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  async findCredential(userId: string): Promise<TotpCredentialRow | undefined> {
    const [row] = await this.db.select().from(totpCredentials).where(eq(totpCredentials.userId, userId));
    return row;
  }

  /**
   * Reads the credential under an update lock: a user's second factors are then checked one at a
   * time, so the failures counted and the lockout they lead to are exact under concurrency.
   */
  async lockCredential(tx: Transaction, userId: string): Promise<TotpCredentialRow | undefined> {
    const [row] = await tx.select().from(totpCredentials).where(eq(totpCredentials.userId, userId)).for('update');
    return row;
  }

  async isEnabled(userId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ userId: totpCredentials.userId })
      .from(totpCredentials)
      .where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.confirmedAt)));
    return row !== undefined;
  }

  /** A new unconfirmed secret, replacing an unconfirmed one; 'enabled' when a confirmed one exists (left as is). */
  async saveUnconfirmed(userId: string, secretSealed: string): Promise<'saved' | 'enabled'> {
    const rows = await this.db
      .insert(totpCredentials)
      .values({ userId, secretSealed })
      .onConflictDoUpdate({
        target: totpCredentials.userId,
        set: { secretSealed, lastUsedStep: null },
        setWhere: isNull(totpCredentials.confirmedAt),
      })
      .returning({ userId: totpCredentials.userId });
    return rows.length > 0 ? 'saved' : 'enabled';
  }

  /**
   * Switches on the secret the code was checked against, recording the code's step; false when it
   * was on already, or a newer setup replaced that secret meanwhile.
   */
  async confirm(tx: Transaction, userId: string, secretSealed: string, step: number, now: Date): Promise<boolean> {
    const rows = await tx
      .update(totpCredentials)
      .set({ confirmedAt: now, lastUsedStep: step })
      .where(and(eq(totpCredentials.userId, userId), eq(totpCredentials.secretSealed, secretSealed), isNull(totpCredentials.confirmedAt)))
      .returning({ userId: totpCredentials.userId });
    return rows.length > 0;
  }

  /**
   * Records `step` as used, only if it is later than the last one: of two requests with the same
   * code, one wins. False when the code's step was used already (or 2FA is off).
   */
  async useStep(tx: Transaction, userId: string, step: number): Promise<boolean> {
    const rows = await tx
      .update(totpCredentials)
      .set({ lastUsedStep: step })
      .where(
        and(
          eq(totpCredentials.userId, userId),
          isNotNull(totpCredentials.confirmedAt),
          or(isNull(totpCredentials.lastUsedStep), lt(totpCredentials.lastUsedStep, step)),
        ),
      )
      .returning({ userId: totpCredentials.userId });
    return rows.length > 0;
  }

  /** Switches 2FA off: the authenticator and the recovery codes go; open challenges are void. */
  async removeAllOf(tx: Transaction, userId: string, now: Date): Promise<boolean> {
    const removed = await tx.delete(totpCredentials).where(eq(totpCredentials.userId, userId)).returning({ userId: totpCredentials.userId });
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
    await tx
      .update(twoFactorChallenges)
      .set({ consumedAt: now })
      .where(and(eq(twoFactorChallenges.userId, userId), isNull(twoFactorChallenges.consumedAt)));
    return removed.length > 0;
  }

  async replaceRecoveryCodes(tx: Transaction, userId: string, codeHashes: string[]): Promise<void> {
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
    await tx.insert(recoveryCodes).values(codeHashes.map((codeHash) => ({ userId, codeHash })));
  }

  /** The user's recovery codes not used yet (ten at most), for the caller to compare in constant time. */
  async unusedRecoveryCodes(tx: Transaction, userId: string): Promise<Array<{ id: string; codeHash: string }>> {
    return tx
      .select({ id: recoveryCodes.id, codeHash: recoveryCodes.codeHash })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
  }

  /** Spends recovery code `id` if it is still unused; false when another request spent it first. */
  async useRecoveryCode(tx: Transaction, id: string, now: Date): Promise<boolean> {
    const rows = await tx
      .update(recoveryCodes)
      .set({ usedAt: now })
      .where(and(eq(recoveryCodes.id, id), isNull(recoveryCodes.usedAt)))
      .returning({ id: recoveryCodes.id });
    return rows.length > 0;
  }

  /** Counts one wrong second factor of the user, atomically; returns the count so far and the lockouts before. */
  async countFactorFailure(tx: Transaction, userId: string): Promise<{ failedAttempts: number; lockouts: number } | undefined> {
    const [row] = await tx
      .update(totpCredentials)
      .set({ failedAttempts: sql`${totpCredentials.failedAttempts} + 1` })
      .where(eq(totpCredentials.userId, userId))
      .returning({ failedAttempts: totpCredentials.failedAttempts, lockouts: totpCredentials.lockouts });
    return row;
  }

  /** Locks the user's second step until `until`: one more lockout, and the failure count starts again. */
  async lockOut(tx: Transaction, userId: string, until: Date): Promise<void> {
    await tx
      .update(totpCredentials)
      .set({ lockedUntil: until, failedAttempts: 0, lockouts: sql`${totpCredentials.lockouts} + 1` })
      .where(eq(totpCredentials.userId, userId));
  }

  /** A right second factor: the failures, lockouts and any lock are forgotten. */
  async clearFailures(tx: Transaction, userId: string): Promise<void> {
    await tx.update(totpCredentials).set({ failedAttempts: 0, lockouts: 0, lockedUntil: null }).where(eq(totpCredentials.userId, userId));
  }

  async insertChallenge(challenge: { id: string; userId: string; purpose: ChallengePurpose; tokenHash: string; expiresAt: Date }): Promise<void> {
    await this.db.insert(twoFactorChallenges).values(challenge);
  }

  async findChallenge(id: string): Promise<TwoFactorChallengeRow | undefined> {
    const [row] = await this.db.select().from(twoFactorChallenges).where(eq(twoFactorChallenges.id, id));
    return row;
  }

  /** Spends a challenge that is still open (unspent, unexpired, not voided); false when another request spent it first. */
  async consumeChallenge(tx: Transaction, id: string, now: Date): Promise<boolean> {
    const rows = await tx
      .update(twoFactorChallenges)
      .set({ consumedAt: now })
      .where(
        and(
          eq(twoFactorChallenges.id, id),
          isNull(twoFactorChallenges.consumedAt),
          gt(twoFactorChallenges.expiresAt, now),
          lt(twoFactorChallenges.failedAttempts, CHALLENGE_MAX_FAILURES),
        ),
      )
      .returning({ id: twoFactorChallenges.id });
    return rows.length > 0;
  }

  /** Counts one wrong code, atomically; returns the count so far. */
  async countFailure(id: string): Promise<number> {
    const [row] = await this.db
      .update(twoFactorChallenges)
      .set({ failedAttempts: sql`${twoFactorChallenges.failedAttempts} + 1` })
      .where(eq(twoFactorChallenges.id, id))
      .returning({ failedAttempts: twoFactorChallenges.failedAttempts });
    return row?.failedAttempts ?? CHALLENGE_MAX_FAILURES;
  }

  async purgeChallengesExpiredBefore(cutoff: Date): Promise<number> {
    const result = await this.db.delete(twoFactorChallenges).where(lt(twoFactorChallenges.expiresAt, cutoff));
    return result.rowCount ?? 0;
  }
}
