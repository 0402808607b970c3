import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, inArray, isNotNull, sql } from 'drizzle-orm';
import type { OwnerScope } from '../../common/auth/principal';
import { Database, DB, Executor, Transaction } from '../../db/database';
import { ownerCondition } from '../../db/owner-scope';
import { webhookEndpoints } from '../../db/schema';

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type NewWebhookEndpoint = typeof webhookEndpoints.$inferInsert;
/** What an owner may change in place; the enabled state comes with its reason and time. */
export type WebhookEndpointChanges = Partial<Pick<WebhookEndpointRow, 'url' | 'events' | 'description' | 'enabled' | 'disabledReason' | 'disabledAt'>>;

@Injectable()
export class WebhookEndpointsRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /**
   * Holds, to the end of the transaction, the one lock under which an owner's endpoints are counted
   * and added: two creates at once count one after the other. An advisory lock, so nothing of the
   * users table is locked from here.
   */
  async lockOwner(tx: Transaction, ownerId: string): Promise<void> {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('gatehouse:webhook-endpoints'), hashtext(${ownerId}))`);
  }

  /** Every endpoint the owner holds, enabled or not. */
  async countOwned(tx: Executor, ownerId: string): Promise<number> {
    const [held] = await tx.select({ count: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.ownerId, ownerId));
    return held!.count;
  }

  async insert(tx: Executor, endpoint: NewWebhookEndpoint): Promise<WebhookEndpointRow> {
    const [row] = await tx.insert(webhookEndpoints).values(endpoint).returning();
    return row!;
  }

  list(scope: OwnerScope, filter: { cursor?: string; limit: number }): Promise<WebhookEndpointRow[]> {
    return this.db
      .select()
      .from(webhookEndpoints)
      .where(and(ownerCondition(webhookEndpoints.ownerId, scope), filter.cursor ? gt(webhookEndpoints.id, filter.cursor) : undefined))
      .orderBy(asc(webhookEndpoints.id))
      .limit(filter.limit + 1);
  }

  async findOwned(scope: OwnerScope, id: string): Promise<WebhookEndpointRow | undefined> {
    const [row] = await this.db.select().from(webhookEndpoints).where(owned(scope, id));
    return row;
  }

  /** The endpoint after the change, or undefined when `scope` does not own one with this id. */
  async update(scope: OwnerScope, id: string, changes: WebhookEndpointChanges): Promise<WebhookEndpointRow | undefined> {
    const [row] = await this.db.update(webhookEndpoints).set(changes).where(owned(scope, id)).returning();
    return row;
  }

  /**
   * Makes `secretSealed` the signing secret and the current one the previous, which signs too until
   * `previousExpiresAt`; one rotated before that stops at once. One statement, so two rotations at
   * once apply one after the other.
   */
  async rotateSecret(scope: OwnerScope, id: string, secretSealed: string, previousExpiresAt: Date): Promise<WebhookEndpointRow | undefined> {
    const [row] = await this.db
      .update(webhookEndpoints)
      .set({ secretSealed, previousSecretSealed: sql`${webhookEndpoints.secretSealed}`, previousSecretExpiresAt: previousExpiresAt })
      .where(owned(scope, id))
      .returning();
    return row;
  }

  /** Whether `scope` owned an endpoint with this id (it is gone now). */
  async delete(scope: OwnerScope, id: string): Promise<boolean> {
    const deleted = await this.db.delete(webhookEndpoints).where(owned(scope, id)).returning({ id: webhookEndpoints.id });
    return deleted.length > 0;
  }

  /**
   * These endpoints answered: no longer failing. Most attempts succeed on a healthy endpoint, and
   * then no row is written (no lock for every concurrent delivery to queue behind).
   */
  async recordHealthy(ids: string[]): Promise<void> {
    await this.db
      .update(webhookEndpoints)
      .set({ failingSince: null })
      .where(and(inArray(webhookEndpoints.id, ids), isNotNull(webhookEndpoints.failingSince)));
  }

  /** The endpoint failed an attempt: failing since now, unless it already was; since when (null: it is gone). */
  async recordFailure(id: string, at: Date): Promise<Date | null> {
    const [row] = await this.db
      .update(webhookEndpoints)
      .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${at.toISOString()}::timestamptz)` })
      .where(eq(webhookEndpoints.id, id))
      .returning({ failingSince: webhookEndpoints.failingSince });
    return row?.failingSince ?? null;
  }

  /**
   * Switched off by delivery (410 Gone, or failing for days); the endpoint only for the call that
   * switched it off.
   */
  disable(id: string, reason: 'GONE' | 'FAILING', at: Date): Promise<WebhookEndpointRow | undefined> {
    return this.disableIn(this.db, id, reason, at);
  }

  /** `disable` in the caller's transaction, with the mail that tells its owner. */
  async disableIn(tx: Executor, id: string, reason: 'GONE' | 'FAILING', at: Date): Promise<WebhookEndpointRow | undefined> {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ enabled: false, disabledReason: reason, disabledAt: at })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.enabled, true)))
      .returning();
    return row;
  }
}

const owned = (scope: OwnerScope, id: string) => and(eq(webhookEndpoints.id, id), ownerCondition(webhookEndpoints.ownerId, scope));
