import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNull } from 'drizzle-orm';
import { secretMatches } from '../../common/crypto/secret-token';
import { Database, DB } from '../../db/database';
import { passwordResetTokens, refreshTokens, users } from '../../db/schema';

export type ResetOutcome = 'reset' | 'invalid' | 'expired';
export type ResetResult = { outcome: 'reset'; userId: string; email: string } | { outcome: 'invalid' | 'expired' };

@Injectable()
export class PasswordResetRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /** Whether the token could be spent now, without spending it (checked again under lock). */
  async check(id: string, secret: string, now: Date): Promise<ResetOutcome> {
    const [token] = await this.db.select().from(passwordResetTokens).where(eq(passwordResetTokens.id, id));
    if (!token || token.usedAt || !secretMatches(secret, token.tokenHash)) return 'invalid';
    return token.expiresAt <= now ? 'expired' : 'reset';
  }

  async insert(token: { id: string; userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await this.db.insert(passwordResetTokens).values(token);
  }

  /**
   * In one transaction: spends the token (row-locked, so it works once), sets the new password,
   * spends the user's other reset tokens and revokes every refresh token, ending all sessions.
   */
  async resetPassword(id: string, secret: string, passwordHash: string, now: Date): Promise<ResetResult> {
    return this.db.transaction(async (tx) => {
      const [token] = await tx.select().from(passwordResetTokens).where(eq(passwordResetTokens.id, id)).for('update');
      if (!token || token.usedAt || !secretMatches(secret, token.tokenHash)) return { outcome: 'invalid' };
      if (token.expiresAt <= now) return { outcome: 'expired' };
      // The user row first: it orders this reset against a concurrent refresh-token rotation.
      const [user] = await tx.update(users).set({ passwordHash }).where(eq(users.id, token.userId)).returning({ email: users.email });
      await tx
        .update(passwordResetTokens)
        .set({ usedAt: now })
        .where(and(eq(passwordResetTokens.userId, token.userId), isNull(passwordResetTokens.usedAt)));
      await tx
        .update(refreshTokens)
        .set({ revokedAt: now })
        .where(and(eq(refreshTokens.userId, token.userId), isNull(refreshTokens.revokedAt)));
      return { outcome: 'reset', userId: token.userId, email: user!.email };
    });
  }
}
