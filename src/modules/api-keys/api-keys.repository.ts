import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { Database, DB } from '../../db/database';
import { apiKeys, users } from '../../db/schema';

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;

@Injectable()
export class ApiKeysRepository {
  /** The hot path: one indexed, prepared lookup by hash, with the owner's current rights. */
  private readonly byHash;

  constructor(@Inject(DB) private readonly db: Database) {
    this.byHash = this.db
      .select({
        key: apiKeys,
        owner: { role: users.role, status: users.status, language: users.language },
      })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.ownerId))
      .where(eq(apiKeys.keyHash, sql.placeholder('hash')))
      .limit(1)
      .prepare('api_key_by_hash');
  }

  async findByHash(hash: string) {
    const [row] = await this.byHash.execute({ hash });
    return row;
  }

  async insert(key: NewApiKey): Promise<ApiKeyRow> {
    const [row] = await this.db.insert(apiKeys).values(key).returning();
    return row!;
  }

  /** `ownerId` undefined lists everyone's (for ADMINs). */
  list(filter: { ownerId?: string; cursor?: string; limit: number }): Promise<ApiKeyRow[]> {
    return this.db
      .select()
      .from(apiKeys)
      .where(and(filter.ownerId ? eq(apiKeys.ownerId, filter.ownerId) : undefined, filter.cursor ? gt(apiKeys.id, filter.cursor) : undefined))
      .orderBy(asc(apiKeys.id))
      .limit(filter.limit + 1);
  }

  /** Owner first: with `ownerId` undefined (ADMIN) any key is found. */
  async findOwned(ownerId: string | undefined, id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), ownerId ? eq(apiKeys.ownerId, ownerId) : undefined));
    return row;
  }

  /**
   * Replaces a live key by `next`; the old one keeps working until `graceEndsAt`. Row-locked, so a
   * key is rotated once; a key already rotated, revoked or expired is not rotated again.
   */
  rotate(ownerId: string | undefined, id: string, now: Date, next: (old: ApiKeyRow) => NewApiKey, graceEndsAt: Date) {
    return this.db.transaction(async (tx) => {
      const [old] = await tx
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.id, id), ownerId ? eq(apiKeys.ownerId, ownerId) : undefined))
        .for('update');
      if (!old) return { outcome: 'not-found' as const };
      if (old.revokedAt || old.replacedBy || (old.expiresAt && old.expiresAt <= now)) return { outcome: 'not-rotatable' as const };
      const [created] = await tx.insert(apiKeys).values(next(old)).returning();
      await tx.update(apiKeys).set({ graceEndsAt, replacedBy: created!.id }).where(eq(apiKeys.id, old.id));
      return { outcome: 'rotated' as const, old, created: created! };
    });
  }

  async revoke(ownerId: string | undefined, id: string, now: Date): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${now.toISOString()}::timestamptz)` })
      .where(and(eq(apiKeys.id, id), ownerId ? eq(apiKeys.ownerId, ownerId) : undefined))
      .returning();
    return row;
  }
}
