import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { and, asc, desc, eq, gte, inArray, isNotNull, lt, ne, or, SQL, sql } from 'drizzle-orm';
import { OwnerScope } from '../../common/auth/principal';
import { newId } from '../../lib/ids';
import { Database, DB, DB_POOL, Executor, Transaction } from '../../db/database';
import { users, webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../db/schema';
import { PreparedSql } from '../../db/prepared-sql';
import {
  ClaimLimits,
  dueOfLockedEndpoints,
  HANDED_RETURNING,
  HANDED_WITH_ENDPOINTS,
  handedDelivery,
  lockClaimableEndpoints,
  successorsOf,
  WITHOUT_FLUSH,
} from './webhook-deliveries.claim-sql';

export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type NewDelivery = typeof webhookDeliveries.$inferInsert;
export type AttemptRow = typeof webhookAttempts.$inferSelect;
export type NewAttempt = typeof webhookAttempts.$inferInsert;
export type DeliveryStatus = DeliveryRow['status'];
/** Where a delivery goes after an attempt. */
export type NextState = Pick<DeliveryRow, 'status' | 'nextAttemptAt' | 'lastError' | 'completedAt'>;
/** One attempt to record: made under `lease`, and leading its delivery to `next`. */
export interface RecordedAttempt {
  attempt: NewAttempt & { attemptedAt: Date };
  next: NextState;
  lease: Date;
}

/** Successors to claim while recording: how many for each endpoint, leased until `leaseUntil`, due by `now`. */
export interface HandOver {
  endpoints: Map<string, number>;
  now: Date;
  leaseUntil: Date;
}

/** A claimed delivery with what its attempt needs from its endpoint, and its owner's role now. */
export interface ClaimedDelivery {
  delivery: DeliveryRow;
  endpoint: Pick<
    typeof webhookEndpoints.$inferSelect,
    'id' | 'url' | 'enabled' | 'secretSealed' | 'previousSecretSealed' | 'previousSecretExpiresAt' | 'ownerId' | 'failingSince'
  > & { ownerRole: (typeof users.$inferSelect)['role'] };
}

export interface DeliveryFilter {
  endpointId?: string;
  eventType?: string;
  status?: DeliveryStatus;
}

/**
 * What a scope may read and replay: everything for `{ all: true }`; otherwise the deliveries to the
 * user's endpoints about the user. The rest of an `all` endpoint's deliveries (about other users)
 * stay out of reach once its owner is no longer an ADMIN.
 */
const ownedBy = (scope: OwnerScope): SQL | undefined =>
  'userId' in scope ? and(eq(webhookDeliveries.ownerId, scope.userId), eq(webhookDeliveries.subjectUserId, scope.userId)) : undefined;
/** Enabled, and listening to `type` (by name or `*`). */
const subscribedTo = (type: string) =>
  and(eq(webhookEndpoints.enabled, true), sql`(${type} = ANY(${webhookEndpoints.events}) OR '*' = ANY(${webhookEndpoints.events}))`);
/** An `all` endpoint whose owner is an ADMIN now (one demoted since hears only about itself). */
const hearsEveryone = and(eq(webhookEndpoints.scope, 'all'), eq(users.role, 'ADMIN'))!;
/** Why a delivery about someone else ends when its endpoint's owner is no longer an ADMIN. */
const NOT_AN_ADMIN = "CANCELLED: the endpoint's owner is no longer an ADMIN";
/** No attempt in flight holds the delivery: never leased, or its lease ran out. */
const leaseFree = (now: Date) => or(sql`${webhookDeliveries.leaseUntil} IS NULL`, lt(webhookDeliveries.leaseUntil, now));

const p = sql.placeholder;
/** The attempts of a round (arrays through unnest), each recorded only while it still holds its lease. */
const RECORD = sql`
  WITH round AS (
    SELECT * FROM unnest(
      ${p('deliveryIds')}::text[], ${p('leases')}::timestamptz[], ${p('statuses')}::webhook_delivery_status[],
      ${p('nextAttemptAts')}::timestamptz[], ${p('lastErrors')}::text[], ${p('completedAts')}::timestamptz[],
      ${p('attemptIds')}::text[], ${p('attemptedAts')}::timestamptz[], ${p('statusCodes')}::int[],
      ${p('durationsMs')}::int[], ${p('responseBodies')}::text[], ${p('failures')}::text[]
    ) AS r(delivery_id, lease, status, next_attempt_at, last_error, completed_at, attempt_id, attempted_at, status_code, duration_ms, response_body, failure)
  ), recorded AS (
    UPDATE ${webhookDeliveries} d
       SET status = r.status, next_attempt_at = r.next_attempt_at, last_error = r.last_error, completed_at = r.completed_at, lease_until = NULL
      FROM round r
     WHERE d.id = r.delivery_id AND d.lease_until = r.lease
    RETURNING d.id, d.endpoint_id, r.lease
  ), attempts AS (
    INSERT INTO ${webhookAttempts} (id, delivery_id, attempted_at, status_code, duration_ms, response_body, failure)
    SELECT r.attempt_id, r.delivery_id, r.attempted_at, r.status_code, r.duration_ms, r.response_body, r.failure
      FROM round r JOIN recorded ON recorded.id = r.delivery_id
  )`;
/**
 * recordAttempts' statement, without and with the slot handover: on the dispatcher's busiest path
 * (once or twice per delivery), so its text is built once and it runs prepared (PreparedSql).
 */
const RECORDING = new PreparedSql(
  'webhook_record_attempts',
  sql`${RECORD}
  SELECT (SELECT array_agg(id) FROM recorded) AS recorded_ids, ${WITHOUT_FLUSH}`,
);
const RECORDING_HANDING_OVER = new PreparedSql(
  'webhook_record_attempts_handing_over',
  sql`${RECORD}, wanted AS (
    -- Only the slots of attempts recorded here: one whose lease ran out is another's to fill.
    SELECT a.endpoint_id, least(a.n, count(recorded.id))::int AS n
      FROM unnest(${p('endpointIds')}::text[], ${p('slots')}::int[]) AS a(endpoint_id, n)
      JOIN recorded ON recorded.endpoint_id = a.endpoint_id AND recorded.lease >= ${p('now')}::timestamptz
     GROUP BY a.endpoint_id, a.n
  ), handed AS (
    UPDATE ${webhookDeliveries} d SET lease_until = ${p('leaseUntil')}::timestamptz, attempt_count = d.attempt_count + 1
      FROM (${successorsOf(p('now'))}) successor
     WHERE d.id = successor.id
    RETURNING ${HANDED_RETURNING}
  )
  SELECT (SELECT array_agg(id) FROM recorded) AS recorded_ids, s.*, ${WITHOUT_FLUSH}
    FROM (SELECT 1) one LEFT JOIN (${HANDED_WITH_ENDPOINTS}) s ON true`,
);

@Injectable()
export class WebhookDeliveriesRepository {
  constructor(
    @Inject(DB) private readonly db: Database,
    /** For the prepared recording statement (PreparedSql), which drizzle's db cannot run. */
    @Inject(DB_POOL) private readonly pool: Pool,
  ) {}

  /**
   * The enabled endpoints an event of `type` about `userId` goes to: the user's own, and every
   * `all` endpoint whose owner is an ADMIN now (one demoted since hears only about itself). Two
   * indexed lookups (the owner's endpoints; the few `all` ones), not an OR that scans the table.
   */
  async endpointsFor(tx: Executor, type: string, userId: string | null): Promise<{ id: string; ownerId: string }[]> {
    const columns = { id: webhookEndpoints.id, ownerId: webhookEndpoints.ownerId };
    const everyone = tx
      .select(columns)
      .from(webhookEndpoints)
      .innerJoin(users, eq(users.id, webhookEndpoints.ownerId))
      .where(and(hearsEveryone, subscribedTo(type), userId === null ? undefined : ne(webhookEndpoints.ownerId, userId)));
    if (userId === null) return everyone;
    return tx
      .select(columns)
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.ownerId, userId), subscribedTo(type)))
      .unionAll(everyone);
  }

  /** Who `endpointsFor` would name for some event of `type`: whether an `all` endpoint would, and the owners of `own` ones. */
  async subscribersOf(type: string): Promise<{ everyone: boolean; owners: Set<string> }> {
    const rows = await this.db
      .select({ ownerId: webhookEndpoints.ownerId, everyone: sql<boolean>`${hearsEveryone}` })
      .from(webhookEndpoints)
      .innerJoin(users, eq(users.id, webhookEndpoints.ownerId))
      .where(subscribedTo(type));
    return { everyone: rows.some((row) => row.everyone), owners: new Set(rows.map((row) => row.ownerId)) };
  }

  /**
   * One delivery per endpoint and event, whatever repeats the fan-out, in one statement: a column
   * per parameter (arrays through unnest), so a batch of any size is 8 parameters, not 8 per row.
   */
  async insertMany(tx: Executor, rows: NewDelivery[]): Promise<void> {
    if (rows.length === 0) return;
    const column = <T>(pick: (row: NewDelivery) => T) => sql.param(rows.map(pick));
    await tx.execute(sql`
      INSERT INTO ${webhookDeliveries} (id, endpoint_id, owner_id, subject_user_id, event_id, event_type, body, next_attempt_at, created_at)
      SELECT id, endpoint_id, owner_id, subject_user_id, event_id, event_type, body, next_attempt_at, coalesce(created_at, now())
        FROM unnest(
          ${column((row) => row.id ?? newId('whd'))}::text[], ${column((row) => row.endpointId)}::text[], ${column((row) => row.ownerId)}::text[],
          ${column((row) => row.subjectUserId ?? null)}::text[], ${column((row) => row.eventId)}::text[], ${column((row) => row.eventType)}::text[],
          ${column((row) => row.body)}::text[], ${column((row) => row.nextAttemptAt?.toISOString() ?? null)}::timestamptz[],
          ${column((row) => row.createdAt?.toISOString() ?? null)}::timestamptz[]
        ) AS r(id, endpoint_id, owner_id, subject_user_id, event_id, event_type, body, next_attempt_at, created_at)
      ON CONFLICT (endpoint_id, event_id) DO NOTHING`);
  }

  /**
   * Takes up to `limit` due deliveries for one attempt each, fairly across endpoints: never more
   * than `perEndpoint` in flight to one endpoint (1 while it is failing), counted over every
   * instance, and the least busy endpoints first, so a slow endpoint's backlog cannot crowd out
   * another's first delivery. The lease runs to `leaseUntil`, so nobody else takes them meanwhile,
   * and the attempt count goes up before the attempt, so a crash mid-attempt is still counted.
   *
   * The endpoints are row-locked (SKIP LOCKED) for the claim: a second claimer skips them rather
   * than counting the same free slots, and reads their in-flight count again only after it gets
   * them. Walking the endpoints that have pending deliveries costs one index probe per endpoint,
   * whatever their backlog.
   *
   * `tx` is the claim's own transaction: the locks hold to its end, and it commits without a WAL
   * flush (WITHOUT_FLUSH), so nothing else may be written in it.
   */
  async claimDue(tx: Transaction, now: Date, leaseUntil: Date, limits: ClaimLimits): Promise<ClaimedDelivery[]> {
    const endpoints = await lockClaimableEndpoints(tx, now, limits);
    if (endpoints.length === 0) return [];
    const claimed = await tx
      .update(webhookDeliveries)
      .set({ leaseUntil, attemptCount: sql`${webhookDeliveries.attemptCount} + 1` })
      .where(sql`${webhookDeliveries.id} IN (${dueOfLockedEndpoints(endpoints, now, limits)})`)
      .returning();
    // The endpoints are locked: what the lock read of them is what the attempts need.
    const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
    return claimed.map((delivery) => ({ delivery, endpoint: byId.get(delivery.endpointId)! }));
  }

  /**
   * Takes this one delivery for an attempt now, as `claimDue` would (a lease, the count up), when
   * it is pending and no attempt holds it; undefined otherwise. The claim and the read of its
   * endpoint share the caller's transaction.
   */
  async claimOne(tx: Transaction, id: string, now: Date, leaseUntil: Date): Promise<ClaimedDelivery | undefined> {
    const claimed = await tx
      .update(webhookDeliveries)
      .set({ leaseUntil, attemptCount: sql`${webhookDeliveries.attemptCount} + 1` })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'PENDING'), leaseFree(now)))
      .returning();
    return (await withEndpoints(tx, claimed))[0];
  }

  /** A new delivery, already claimed for its first attempt (an endpoint test sends it at once), in the caller's transaction. */
  async insertClaimed(tx: Transaction, delivery: NewDelivery, leaseUntil: Date): Promise<ClaimedDelivery> {
    const inserted = await tx
      .insert(webhookDeliveries)
      .values({ ...delivery, status: 'PENDING', leaseUntil, attemptCount: 1 })
      .returning();
    return (await withEndpoints(tx, inserted))[0]!;
  }

  /**
   * Records a round's attempts, each with where its delivery goes next, in one statement: an
   * attempt is recorded only while it still holds its lease, and its attempt row is written only
   * then. With `handOver`, the same statement also claims successors for the slots of recorded
   * attempts (successorsOf): up to `handOver.endpoints.get(id)` due deliveries of each endpoint
   * named. The ids of the deliveries recorded, and the successors claimed.
   */
  async recordAttempts(rows: RecordedAttempt[], handOver?: HandOver): Promise<{ recorded: Set<string>; handedOver: ClaimedDelivery[] }> {
    if (rows.length === 0) return { recorded: new Set(), handedOver: [] };
    const column = <T>(pick: (row: RecordedAttempt) => T) => rows.map(pick);
    const iso = (at: Date | null | undefined) => at?.toISOString() ?? null;
    const round = {
      deliveryIds: column((row) => row.attempt.deliveryId),
      leases: column((row) => iso(row.lease)),
      statuses: column((row) => row.next.status),
      nextAttemptAts: column((row) => iso(row.next.nextAttemptAt)),
      lastErrors: column((row) => row.next.lastError),
      completedAts: column((row) => iso(row.next.completedAt)),
      attemptIds: column((row) => row.attempt.id ?? newId('wha')),
      attemptedAts: column((row) => iso(row.attempt.attemptedAt)),
      statusCodes: column((row) => row.attempt.statusCode ?? null),
      durationsMs: column((row) => row.attempt.durationMs),
      responseBodies: column((row) => row.attempt.responseBody ?? null),
      failures: column((row) => row.attempt.failure ?? null),
    };
    const wanted = handOver && handOver.endpoints.size > 0 ? handOver : undefined;
    const query = wanted
      ? RECORDING_HANDING_OVER.query({
          ...round,
          endpointIds: [...wanted.endpoints.keys()],
          slots: [...wanted.endpoints.values()],
          now: wanted.now.toISOString(),
          leaseUntil: wanted.leaseUntil.toISOString(),
        })
      : RECORDING.query(round);
    const result = await this.pool.query<Record<string, unknown>>(query);
    const recorded = new Set((result.rows[0]?.recorded_ids as string[] | null) ?? []);
    const handedOver = result.rows.filter((row) => row.id != null).map(handedDelivery);
    return { recorded, handedOver };
  }

  /**
   * Ends the pending deliveries to `userId`'s endpoints about other users, when `userId` is not an
   * ADMIN (any more): an `all` endpoint keeps only what is about its owner. How many.
   */
  async cancelAboutOthers(userId: string, now: Date): Promise<number> {
    const cancelled = await this.db
      .update(webhookDeliveries)
      .set({ status: 'FAILED', nextAttemptAt: null, leaseUntil: null, completedAt: now, lastError: NOT_AN_ADMIN })
      .where(
        and(
          eq(webhookDeliveries.ownerId, userId),
          eq(webhookDeliveries.status, 'PENDING'),
          sql`${webhookDeliveries.subjectUserId} IS DISTINCT FROM ${userId}`,
          sql`NOT EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.role} = 'ADMIN')`,
        ),
      )
      .returning({ id: webhookDeliveries.id });
    return cancelled.length;
  }

  /** Due again now: a retry asked for, or a recovery. Only deliveries the scope owns. */
  requeue(scope: OwnerScope, ids: string[] | { endpointId: string; since: Date }, now: Date): Promise<DeliveryRow[]> {
    return this.requeueIn(this.db, scope, ids, now);
  }

  /** `requeue` in the caller's transaction: the rows stay locked until it ends (a retry claims its delivery in it). */
  async requeueIn(tx: Executor, scope: OwnerScope, ids: string[] | { endpointId: string; since: Date }, now: Date): Promise<DeliveryRow[]> {
    const which = Array.isArray(ids)
      ? inArray(webhookDeliveries.id, ids)
      : and(eq(webhookDeliveries.endpointId, ids.endpointId), eq(webhookDeliveries.status, 'FAILED'), gte(webhookDeliveries.createdAt, ids.since));
    return tx
      .update(webhookDeliveries)
      .set({ status: 'PENDING', nextAttemptAt: now, completedAt: null, lastError: null })
      .where(and(which, ownedBy(scope), leaseFree(now)))
      .returning();
  }

  async findOwned(scope: OwnerScope, id: string): Promise<{ delivery: DeliveryRow; attempts: AttemptRow[] } | undefined> {
    const [delivery] = await this.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.id, id), ownedBy(scope)));
    if (!delivery) return undefined;
    const attempts = await this.db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, id)).orderBy(asc(webhookAttempts.attemptedAt));
    return { delivery, attempts };
  }

  /** Newest first; `cursor` is the last id of the previous page. */
  async page(
    scope: OwnerScope,
    filter: DeliveryFilter,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ delivery: DeliveryRow; attempts: AttemptRow[] }[]> {
    const rows = await this.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          ownedBy(scope),
          filter.endpointId ? eq(webhookDeliveries.endpointId, filter.endpointId) : undefined,
          filter.eventType ? eq(webhookDeliveries.eventType, filter.eventType) : undefined,
          filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
          cursor ? lt(webhookDeliveries.id, cursor) : undefined,
        ),
      )
      .orderBy(desc(webhookDeliveries.id))
      .limit(limit + 1);
    if (rows.length === 0) return [];
    const attempts = await this.db
      .select()
      .from(webhookAttempts)
      .where(
        inArray(
          webhookAttempts.deliveryId,
          rows.map((row) => row.id),
        ),
      )
      .orderBy(asc(webhookAttempts.attemptedAt));
    return rows.map((delivery) => ({ delivery, attempts: attempts.filter((attempt) => attempt.deliveryId === delivery.id) }));
  }

  /** Deletes finished deliveries (and their attempts) completed before `cutoff`; how many. */
  async purgeCompletedBefore(cutoff: Date): Promise<number> {
    const result = await this.db.delete(webhookDeliveries).where(and(isNotNull(webhookDeliveries.completedAt), lt(webhookDeliveries.completedAt, cutoff)));
    return result.rowCount ?? 0;
  }
}

/** The claimed deliveries with what their attempts need from their endpoints (a deleted endpoint's are dropped). */
async function withEndpoints(tx: Executor, claimed: DeliveryRow[]): Promise<ClaimedDelivery[]> {
  if (claimed.length === 0) return [];
  const endpoints = await tx
    .select({
      id: webhookEndpoints.id,
      url: webhookEndpoints.url,
      enabled: webhookEndpoints.enabled,
      secretSealed: webhookEndpoints.secretSealed,
      previousSecretSealed: webhookEndpoints.previousSecretSealed,
      previousSecretExpiresAt: webhookEndpoints.previousSecretExpiresAt,
      ownerId: webhookEndpoints.ownerId,
      failingSince: webhookEndpoints.failingSince,
      ownerRole: users.role,
    })
    .from(webhookEndpoints)
    .innerJoin(users, eq(users.id, webhookEndpoints.ownerId))
    .where(
      inArray(
        webhookEndpoints.id,
        claimed.map((row) => row.endpointId),
      ),
    );
  const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  return claimed.flatMap((delivery) => {
    const endpoint = byId.get(delivery.endpointId);
    return endpoint ? [{ delivery, endpoint }] : [];
  });
}
