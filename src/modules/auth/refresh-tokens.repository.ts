import { Inject, Injectable } from '@nestjs/common';
import { and, eq, exists, isNull, ne, sql } from 'drizzle-orm';
import { secretMatches } from '../../common/crypto/secret-token';
import { Database, DB, Executor, Transaction } from '../../db/database';
import { refreshTokens, users } from '../../db/schema';

export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

export type RotationResult =
  | { outcome: 'rotated'; previous: RefreshTokenRow }
  | { outcome: 'replayed'; previous: RefreshTokenRow; successor: RefreshTokenRow }
  | { outcome: 'reused'; userId: string; familyId: string }
  | { outcome: 'invalid' };

export type SessionState = NonNullable<Awaited<ReturnType<RefreshTokensRepository['findSession']>>>;

@Injectable()
export class RefreshTokensRepository {
  /** The hot path: one prepared query for the user's current rights and whether the login is live. */
  private readonly sessionState;

  constructor(@Inject(DB) private readonly db: Database) {
    const liveToken = this.db
      .select({ id: refreshTokens.id })
      .from(refreshTokens)
      .where(and(eq(refreshTokens.userId, users.id), eq(refreshTokens.familyId, sql.placeholder('sessionId')), isNull(refreshTokens.revokedAt)));
    this.sessionState = this.db
      .select({
        role: users.role,
        status: users.status,
        language: users.language,
        locale: users.locale,
        timezone: users.timezone,
        live: sql<boolean>`${exists(liveToken)}`,
      })
      .from(users)
      .where(eq(users.id, sql.placeholder('userId')))
      .limit(1)
      .prepare('session_state');
  }

  /**
   * The user's current rights, and whether login `sessionId` (a refresh-token family) still has a
   * token that is not revoked. Rotation replaces the live token in one transaction, so a live
   * login always has exactly one. Undefined when the user no longer exists.
   */
  async findSession(userId: string, sessionId: string) {
    const [row] = await this.sessionState.execute({ userId, sessionId });
    return row;
  }

  /**
   * When login `sessionId` began: its first token's creation, which rotation never changes (a
   * family is named after its first token, and tokens are never deleted). Undefined if unknown.
   */
  async sessionStartedAt(userId: string, sessionId: string): Promise<Date | undefined> {
    const [row] = await this.db
      .select({ createdAt: refreshTokens.createdAt })
      .from(refreshTokens)
      .where(and(eq(refreshTokens.id, sessionId), eq(refreshTokens.familyId, sessionId), eq(refreshTokens.userId, userId)));
    return row?.createdAt;
  }

  async insert(token: { id: string; userId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await this.db.insert(refreshTokens).values(token);
  }

  /**
   * Replaces token `id` by `next` atomically, inside the caller's transaction. The row lock makes
   * two concurrent refreshes with the same token serialize: the second sees it replaced. If it was
   * replaced after `replayableSince` and its successor is still live, that successor is the answer
   * ('replayed'); otherwise it counts as reuse, which revokes the family. The outcome is data for
   * the service to act on: it returns rather than throws, so the caller's transaction commits the
   * revocation before the service answers with an error.
   */
  async rotate(
    tx: Transaction,
    id: string,
    secret: string,
    now: Date,
    replayableSince: Date,
    next: (current: RefreshTokenRow) => { id: string; tokenHash: string; expiresAt: Date },
  ): Promise<RotationResult> {
    // Lock the owner first (shared), then the token: a password reset or suspension, which
    // update the user row, then cannot miss a token this rotation is about to insert.
    const [owner] = await tx.select({ userId: refreshTokens.userId }).from(refreshTokens).where(eq(refreshTokens.id, id));
    if (!owner) return { outcome: 'invalid' };
    await tx.select({ id: users.id }).from(users).where(eq(users.id, owner.userId)).for('share');
    const [current] = await tx.select().from(refreshTokens).where(eq(refreshTokens.id, id)).for('update');
    if (!current || !secretMatches(secret, current.tokenHash)) return { outcome: 'invalid' };
    if (current.replacedBy || current.revokedAt) {
      if (current.replacedBy) {
        if (current.revokedAt && current.revokedAt > replayableSince) {
          const [successor] = await tx.select().from(refreshTokens).where(eq(refreshTokens.id, current.replacedBy));
          if (successor && !successor.revokedAt && successor.expiresAt > now) return { outcome: 'replayed', previous: current, successor };
        }
        await tx
          .update(refreshTokens)
          .set({ revokedAt: now })
          .where(and(eq(refreshTokens.familyId, current.familyId), isNull(refreshTokens.revokedAt)));
        return { outcome: 'reused', userId: current.userId, familyId: current.familyId };
      }
      return { outcome: 'invalid' };
    }
    if (current.expiresAt <= now) return { outcome: 'invalid' };
    const replacement = next(current);
    await tx.insert(refreshTokens).values({ ...replacement, userId: current.userId, familyId: current.familyId });
    await tx.update(refreshTokens).set({ revokedAt: now, replacedBy: replacement.id }).where(eq(refreshTokens.id, current.id));
    return { outcome: 'rotated', previous: current };
  }

  /** Revokes the family of token `id`, provided the caller holds its secret (logout); returns that family. */
  async revokeFamilyOf(id: string, secret: string, now: Date): Promise<{ userId: string; familyId: string } | undefined> {
    const [token] = await this.db.select().from(refreshTokens).where(eq(refreshTokens.id, id));
    if (!token || !secretMatches(secret, token.tokenHash)) return undefined;
    await this.revokeFamily(token.userId, token.familyId, now);
    return { userId: token.userId, familyId: token.familyId };
  }

  async revokeFamily(userId: string, familyId: string, now: Date): Promise<void> {
    await this.db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.userId, userId), eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
  }

  /**
   * Revokes every refresh token of the user, ending all its logins but the one named in `keep`;
   * inside the caller's transaction when given one.
   */
  async revokeAllOf(tx: Executor, userId: string, now: Date, keep?: { except: string }): Promise<void> {
    await tx
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt), keep ? ne(refreshTokens.familyId, keep.except) : undefined));
  }
}
