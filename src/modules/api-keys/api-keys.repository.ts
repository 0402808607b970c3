import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { OwnerScope } from '../../common/auth/principal';
import { ownerCondition } from '../../db/owner-scope';
import { Database, DB } from '../../db/database';
import { apiKeys, users } from '../../db/schema';

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;

/** The acting key failed the in-transaction check: revoked, rotated away, expired, or gone. */
type ActorNotCurrent = { outcome: 'actor-not-current'; actor: ApiKeyRow | undefined };

/** A key that still authenticates on its own terms: not revoked, not replaced, not expired. */
function isCurrent(key: ApiKeyRow, now: Date): boolean {
  return !key.revokedAt && !key.replacedBy && !(key.expiresAt && key.expiresAt <= now);
}

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

  /**
   * Inserts `key` unless its owner already holds `maxLive` keys that are neither revoked nor
   * expired: the owner row is locked first, so concurrent creates cannot overshoot the cap. When an
   * API key acts, it is read again under a lock, so a key rotated or revoked a moment ago (or still
   * cached as valid elsewhere) cannot create one.
   */
  create(key: NewApiKey, actingKeyId: string | undefined, now: Date, maxLive: number) {
    type Outcome = ActorNotCurrent | { outcome: 'limit-reached' } | { outcome: 'created'; row: ApiKeyRow };
    return this.db.transaction(async (tx): Promise<Outcome> => {
      await tx.select({ id: users.id }).from(users).where(eq(users.id, key.ownerId)).for('no key update');
      if (actingKeyId) {
        const [actor] = await tx.select().from(apiKeys).where(eq(apiKeys.id, actingKeyId)).for('share');
        if (!actor || !isCurrent(actor, now)) return { outcome: 'actor-not-current', actor };
      }
      const [held] = await tx
        .select({ count: count() })
        .from(apiKeys)
        .where(
          and(
            eq(apiKeys.ownerId, key.ownerId),
            isNull(apiKeys.revokedAt),
            or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
            or(isNull(apiKeys.graceEndsAt), gt(apiKeys.graceEndsAt, now)),
          ),
        );
      if (held!.count >= maxLive) return { outcome: 'limit-reached' };
      const [row] = await tx.insert(apiKeys).values(key).returning();
      return { outcome: 'created', row: row! };
    });
  }

  list(scope: OwnerScope, filter: { cursor?: string; limit: number }): Promise<ApiKeyRow[]> {
    return this.db
      .select()
      .from(apiKeys)
      .where(and(ownerCondition(apiKeys.ownerId, scope), filter.cursor ? gt(apiKeys.id, filter.cursor) : undefined))
      .orderBy(asc(apiKeys.id))
      .limit(filter.limit + 1);
  }

  async findOwned(scope: OwnerScope, id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), ownerCondition(apiKeys.ownerId, scope)));
    return row;
  }

  /**
   * Replaces a live key by `next`; the old one keeps working until `graceEndsAt`, and the one it
   * replaced stops now, so at most two keys of a lineage work. The acting key, the old key and its
   * predecessor are locked in id order (no deadlock between two rotations); a key already rotated,
   * revoked or expired is not rotated again.
   */
  rotate(scope: OwnerScope, id: string, actingKeyId: string | undefined, now: Date, next: (old: ApiKeyRow) => NewApiKey, graceEndsAt: Date) {
    return this.db.transaction(async (tx) => {
      const locked = await tx
        .select()
        .from(apiKeys)
        .where(or(inArray(apiKeys.id, actingKeyId ? [id, actingKeyId] : [id]), eq(apiKeys.replacedBy, id)))
        .orderBy(asc(apiKeys.id))
        .for('update');
      const actor = actingKeyId ? locked.find((row) => row.id === actingKeyId) : undefined;
      if (actingKeyId && (!actor || !isCurrent(actor, now))) return { outcome: 'actor-not-current' as const, actor };
      const old = locked.find((row) => row.id === id && ('all' in scope || row.ownerId === scope.userId));
      if (!old) return { outcome: 'not-found' as const };
      if (!isCurrent(old, now)) return { outcome: 'not-rotatable' as const };
      const [created] = await tx.insert(apiKeys).values(next(old)).returning();
      await tx.update(apiKeys).set({ graceEndsAt, replacedBy: created!.id }).where(eq(apiKeys.id, old.id));
      const ended = await tx
        .update(apiKeys)
        .set({ graceEndsAt: now })
        .where(and(eq(apiKeys.replacedBy, old.id), or(isNull(apiKeys.graceEndsAt), gt(apiKeys.graceEndsAt, now))))
        .returning({ id: apiKeys.id });
      return { outcome: 'rotated' as const, old, created: created!, graceEnded: ended.map((row) => row.id) };
    });
  }

  /**
   * Revokes a key with its lineage in one transaction: the keys it replaced (one may still be in
   * its grace period) and, transitively, every key any of them created. Not its replacement: an
   * owner revokes an old key early once the new one is rolled out. Returns the ids revoked.
   */
  revoke(scope: OwnerScope, id: string, actingKeyId: string | undefined, now: Date) {
    return this.db.transaction(async (tx): Promise<ActorNotCurrent | { outcome: 'not-found' } | { outcome: 'revoked'; ids: string[] }> => {
      const lineage = sql`WITH RECURSIVE doomed(id) AS (
          SELECT id FROM api_keys WHERE id = ${id} ${'all' in scope ? sql`` : sql`AND owner_id = ${scope.userId}`}
          UNION
          SELECT k.id FROM api_keys k JOIN doomed d ON k.parent_key_id = d.id OR k.replaced_by = d.id
        )`;
      // Locked in id order with the acting key, as rotate does, so the two cannot deadlock.
      const { rows: locked } = await tx.execute<{ id: string }>(
        sql`${lineage} SELECT id FROM api_keys WHERE id IN (SELECT id FROM doomed) OR id = ${actingKeyId ?? null} ORDER BY id FOR UPDATE`,
      );
      if (actingKeyId) {
        const [actor] = await tx.select().from(apiKeys).where(eq(apiKeys.id, actingKeyId));
        if (!actor || !isCurrent(actor, now)) return { outcome: 'actor-not-current', actor };
      }
      if (!locked.some((row) => row.id === id)) return { outcome: 'not-found' };
      const revoked = await tx
        .update(apiKeys)
        .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${now.toISOString()}::timestamptz)` })
        .where(sql`${apiKeys.id} IN (${lineage} SELECT id FROM doomed)`)
        .returning({ id: apiKeys.id });
      return { outcome: 'revoked', ids: revoked.map((row) => row.id) };
    });
  }
}
