import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, inArray, isNull, or, SQL, sql } from 'drizzle-orm';
import type { OwnerScope } from '../../common/auth/principal';
import { ownerCondition } from '../../db/owner-scope';
import { Database, DB, Transaction } from '../../db/database';
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

  /** Locks the owner's user row, so that one owner's concurrent creates count and insert one at a time. */
  async lockOwner(tx: Transaction, ownerId: string): Promise<void> {
    await tx.select({ id: users.id }).from(users).where(eq(users.id, ownerId)).for('no key update');
  }

  /** Reads a key under a share lock: it cannot be rotated or revoked before the transaction ends. */
  async lockShared(tx: Transaction, id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.id, id)).for('share');
    return row;
  }

  /** The owner's keys that are neither revoked nor expired nor past their grace period. */
  async countUnexpired(tx: Transaction, ownerId: string, now: Date): Promise<number> {
    const [held] = await tx
      .select({ count: count() })
      .from(apiKeys)
      .where(
        and(
          eq(apiKeys.ownerId, ownerId),
          isNull(apiKeys.revokedAt),
          or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
          or(isNull(apiKeys.graceEndsAt), gt(apiKeys.graceEndsAt, now)),
        ),
      );
    return held!.count;
  }

  async insert(tx: Transaction, key: NewApiKey): Promise<ApiKeyRow> {
    const [row] = await tx.insert(apiKeys).values(key).returning();
    return row!;
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
   * Locks key `id`, the acting key and the key `id` replaced, in id order, so two rotations cannot
   * deadlock. Returns key `id` if `scope` owns it, and the acting key, as they are under the lock.
   */
  async lockForRotation(tx: Transaction, scope: OwnerScope, id: string, actingKeyId: string | undefined) {
    const locked = await tx
      .select()
      .from(apiKeys)
      .where(or(inArray(apiKeys.id, actingKeyId ? [id, actingKeyId] : [id]), eq(apiKeys.replacedBy, id)))
      .orderBy(asc(apiKeys.id))
      .for('update');
    return {
      key: locked.find((row) => row.id === id && ('all' in scope || row.ownerId === scope.userId)),
      actor: actingKeyId ? locked.find((row) => row.id === actingKeyId) : undefined,
    };
  }

  /** Marks key `id` replaced by `replacementId`; it keeps working until `graceEndsAt`. */
  async markReplaced(tx: Transaction, id: string, replacementId: string, graceEndsAt: Date): Promise<void> {
    await tx.update(apiKeys).set({ graceEndsAt, replacedBy: replacementId }).where(eq(apiKeys.id, id));
  }

  /** Ends now the grace period of the keys `id` replaced, where it is still running; returns their ids. */
  async endGraceOfReplaced(tx: Transaction, id: string, now: Date): Promise<string[]> {
    const ended = await tx
      .update(apiKeys)
      .set({ graceEndsAt: now })
      .where(and(eq(apiKeys.replacedBy, id), or(isNull(apiKeys.graceEndsAt), gt(apiKeys.graceEndsAt, now))))
      .returning({ id: apiKeys.id });
    return ended.map((row) => row.id);
  }

  /**
   * Locks key `id` with its lineage (see revokeLineage) and the acting key, in id order as
   * lockForRotation does, so the two cannot deadlock. Returns the ids locked: none of the lineage
   * when `scope` does not own key `id`.
   */
  async lockLineage(tx: Transaction, scope: OwnerScope, id: string, actingKeyId: string | undefined): Promise<string[]> {
    const { rows } = await tx.execute<{ id: string }>(
      sql`${lineage(scope, id)} SELECT id FROM api_keys WHERE id IN (SELECT id FROM doomed) OR id = ${actingKeyId ?? null} ORDER BY id FOR UPDATE`,
    );
    return rows.map((row) => row.id);
  }

  async findById(tx: Transaction, id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.id, id));
    return row;
  }

  /**
   * Revokes key `id` with its lineage: the keys it replaced (one may still be in its grace period)
   * and, transitively, every key any of them created. Not its replacement: an owner revokes an old
   * key early once the new one is rolled out. A key revoked before keeps its time. Returns the ids.
   */
  async revokeLineage(tx: Transaction, scope: OwnerScope, id: string, now: Date): Promise<string[]> {
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${now.toISOString()}::timestamptz)` })
      .where(sql`${apiKeys.id} IN (${lineage(scope, id)} SELECT id FROM doomed)`)
      .returning({ id: apiKeys.id });
    return revoked.map((row) => row.id);
  }

  /**
   * Revokes every key of the owner (its account was reclaimed by the email's proven owner); keys
   * revoked before keep their time. Locked in id order first, as lockLineage locks. Returns the ids.
   */
  async revokeAllOf(tx: Transaction, ownerId: string, now: Date): Promise<string[]> {
    return this.revokeIn(tx, sql`SELECT id FROM api_keys WHERE owner_id = ${ownerId}`, now);
  }

  /**
   * Revokes the keys login `sessionId` (a refresh-token family) created, with what they replaced
   * and, transitively, every key any of them created: the login leaked, so what it made is not
   * trusted either. Returns the ids.
   */
  async revokeCreatedBySession(tx: Transaction, ownerId: string, sessionId: string, now: Date): Promise<string[]> {
    return this.revokeIn(
      tx,
      sql`WITH RECURSIVE doomed(id) AS (
        SELECT id FROM api_keys WHERE owner_id = ${ownerId} AND parent_session_id = ${sessionId}
        UNION
        SELECT k.id FROM api_keys k JOIN doomed d ON k.parent_key_id = d.id OR k.replaced_by = d.id
      ) SELECT id FROM doomed`,
      now,
    );
  }

  /** Locks the keys `ids` selects in id order (so a concurrent rotation or revocation cannot deadlock with this), then revokes them. */
  private async revokeIn(tx: Transaction, ids: SQL, now: Date): Promise<string[]> {
    const { rows } = await tx.execute<{ id: string }>(sql`SELECT id FROM api_keys WHERE id IN (${ids}) ORDER BY id FOR UPDATE`);
    if (rows.length === 0) return [];
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${now.toISOString()}::timestamptz)` })
      .where(
        inArray(
          apiKeys.id,
          rows.map((row) => row.id),
        ),
      )
      .returning({ id: apiKeys.id });
    return revoked.map((row) => row.id);
  }

  /**
   * Advances each key's last-used time, never backwards (batches may be flushed out of order), in
   * one statement for the whole batch (a statement per key cost a round trip each).
   */
  async advanceLastUsed(tx: Transaction, lastUsed: Map<string, Date>): Promise<void> {
    if (lastUsed.size === 0) return;
    await tx.execute(sql`
      UPDATE ${apiKeys} SET last_used_at = used.at
        FROM unnest(${sql.param([...lastUsed.keys()])}::text[], ${sql.param([...lastUsed.values()].map((at) => at.toISOString()))}::timestamptz[]) AS used(id, at)
       WHERE ${apiKeys.id} = used.id AND (${apiKeys.lastUsedAt} IS NULL OR ${apiKeys.lastUsedAt} < used.at)`);
  }
}

/** The CTE `doomed`: key `id`, if `scope` owns it, and every key it replaced or any of those created. */
const lineage = (scope: OwnerScope, id: string) => sql`WITH RECURSIVE doomed(id) AS (
    SELECT id FROM api_keys WHERE id = ${id} ${'all' in scope ? sql`` : sql`AND owner_id = ${scope.userId}`}
    UNION
    SELECT k.id FROM api_keys k JOIN doomed d ON k.parent_key_id = d.id OR k.replaced_by = d.id
  )`;
