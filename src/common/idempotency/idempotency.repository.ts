import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNull, lte, sql } from 'drizzle-orm';
import { Database, DB } from '../../db/database';
import { idempotencyKeys } from '../../db/schema';

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

export interface NewClaim {
  id: string;
  requestHash: string;
  claimId: string;
  leaseUntil: Date;
  createdAt: Date;
  expiresAt: Date;
}

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  bodySealed: string;
}

/** The idempotency_keys table: claims, their stored responses, and the purge. No rules here. */
@Injectable()
export class IdempotencyRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /**
   * Claims the key in one statement: a new row, or one whose 24 h ran out, or an in-flight claim
   * whose lease lapsed (its process died). True when this claim holds it; false when another row
   * (completed, or still in flight) stands. Concurrent claims queue on the row, so one wins.
   */
  async claim(claim: NewClaim, now: Date): Promise<boolean> {
    const rows = await this.db
      .insert(idempotencyKeys)
      .values(claim)
      .onConflictDoUpdate({
        target: idempotencyKeys.id,
        set: {
          requestHash: claim.requestHash,
          claimId: claim.claimId,
          leaseUntil: claim.leaseUntil,
          responseStatus: null,
          responseHeaders: null,
          responseBodySealed: null,
          createdAt: claim.createdAt,
          expiresAt: claim.expiresAt,
        },
        setWhere: sql`${idempotencyKeys.expiresAt} <= ${now} OR (${idempotencyKeys.responseStatus} IS NULL AND ${idempotencyKeys.leaseUntil} <= ${now})`,
      })
      .returning({ id: idempotencyKeys.id });
    return rows.length > 0;
  }

  async find(id: string): Promise<IdempotencyRow | undefined> {
    const [row] = await this.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.id, id));
    return row;
  }

  /** Stores the response of a claim still held; false when the claim was lost (its lease taken over). */
  async complete(id: string, claimId: string, response: StoredResponse): Promise<boolean> {
    const result = await this.db
      .update(idempotencyKeys)
      .set({ responseStatus: response.status, responseHeaders: response.headers, responseBodySealed: response.bodySealed })
      .where(and(eq(idempotencyKeys.id, id), eq(idempotencyKeys.claimId, claimId), isNull(idempotencyKeys.responseStatus)));
    return (result.rowCount ?? 0) > 0;
  }

  /** Frees an in-flight claim this request holds, so the key may be used again. */
  async release(id: string, claimId: string): Promise<void> {
    await this.db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.id, id), eq(idempotencyKeys.claimId, claimId), isNull(idempotencyKeys.responseStatus)));
  }

  async purgeExpired(now: Date): Promise<number> {
    const result = await this.db.delete(idempotencyKeys).where(lte(idempotencyKeys.expiresAt, now));
    return result.rowCount ?? 0;
  }
}
