import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNull } from 'drizzle-orm';
import { Database, DB, Executor, Transaction } from '../../db/database';
import { passwordResetTokens } from '../../db/schema';

export type PasswordResetTokenRow = typeof passwordResetTokens.$inferSelect;

@Injectable()
export class PasswordResetRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  async findById(id: string): Promise<PasswordResetTokenRow | undefined> {
    const [token] = await this.db.select().from(passwordResetTokens).where(eq(passwordResetTokens.id, id));
    return token;
  }

  async insert(tx: Executor, token: { id: string; userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await tx.insert(passwordResetTokens).values(token);
  }

  /** Reads a token under an update lock, so that it is spent once. */
  async lockById(tx: Transaction, id: string): Promise<PasswordResetTokenRow | undefined> {
    const [token] = await tx.select().from(passwordResetTokens).where(eq(passwordResetTokens.id, id)).for('update');
    return token;
  }

  async spendAllOf(tx: Transaction, userId: string, now: Date): Promise<void> {
    await tx
      .update(passwordResetTokens)
      .set({ usedAt: now })
      .where(and(eq(passwordResetTokens.userId, userId), isNull(passwordResetTokens.usedAt)));
  }
}
