import { Placeholder, SQL, sql } from 'drizzle-orm';
import type { Transaction } from '../../db/database';

/**
 * The two parts of WebhookDeliveriesRepository.claimDue, apart only for their length: raw
 * SQL, since drizzle has no recursive CTE, no LATERAL with a computed LIMIT, and no window
 * ordering. `e` is always webhook_endpoints, `d` and `l` webhook_deliveries.
 */

/** How many due deliveries one claim may take, and how many attempts one endpoint may have in flight. */
export interface ClaimLimits {
  limit: number;
  perEndpoint: number;
}

/**
 * The dispatcher's own bookkeeping (claims, recorded attempts) commits without waiting for the WAL
 * flush: a claim or record lost to a crash of the database server (not of ours) only means its
 * delivery is attempted again once the lease ends, which at-least-once delivery already allows
 * (receivers drop repeats by `webhook-id`). Everything else still commits durably. On a machine
 * whose flush takes milliseconds, two flushes per attempt were most of what bounded one endpoint
 * (at most WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT in flight) to a few hundred deliveries a second.
 *
 * A column of the statement that writes: set for its transaction (`is_local`), read at its
 * commit, and evaluated only when the statement returns a row, which is when it wrote something.
 * `SET LOCAL` would cost a round trip, and a transaction around a single statement two more.
 */
export const WITHOUT_FLUSH = sql`set_config('synchronous_commit', 'off', true) AS without_flush`;

/** Attempts in flight to the endpoint `e`: leased, and the lease still running. */
const inFlight = (now: Date) =>
  sql`(SELECT count(*)::int FROM webhook_deliveries l WHERE l.endpoint_id = e.id AND l.lease_until >= ${now} AND l.status = 'PENDING')`;
/** How many attempts `e` may have in flight: one while it is failing (a slow or dead receiver), else the limit. */
const slotsOf = (perEndpoint: number) => sql`(CASE WHEN e.failing_since IS NULL THEN ${perEndpoint}::int ELSE 1 END)`;
/** A pending delivery of `e` (as `d`) that is due and that no attempt holds; `now` may be a prepared statement's placeholder. */
const dueFree = (now: Date | Placeholder) =>
  sql`d.endpoint_id = e.id AND d.status = 'PENDING' AND d.next_attempt_at <= ${now} AND (d.lease_until IS NULL OR d.lease_until < ${now})`;

/** What an attempt needs from its endpoint, and its owner's role now. */
export interface ClaimedEndpoint {
  id: string;
  url: string;
  enabled: boolean;
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretExpiresAt: Date | null;
  ownerId: string;
  ownerRole: 'USER' | 'ADMIN';
  /** Since when its attempts have all failed, as the claim read it (null: healthy). */
  failingSince: Date | null;
}

/**
 * Locks up to `limit` endpoints with a free slot and a due delivery, the least busy first, then
 * those whose oldest due delivery waited longest, and reads what their attempts need. The
 * recursive walk visits each endpoint with pending deliveries once through
 * webhook_deliveries_pending_idx (a loose index scan).
 */
export async function lockClaimableEndpoints(tx: Transaction, now: Date, { limit, perEndpoint }: ClaimLimits): Promise<ClaimedEndpoint[]> {
  const result = await tx.execute<Record<string, unknown>>(sql`
    WITH RECURSIVE pending(endpoint_id) AS (
      (SELECT endpoint_id FROM webhook_deliveries WHERE status = 'PENDING' ORDER BY endpoint_id LIMIT 1)
      UNION ALL
      SELECT (SELECT n.endpoint_id FROM webhook_deliveries n WHERE n.status = 'PENDING' AND n.endpoint_id > p.endpoint_id ORDER BY n.endpoint_id LIMIT 1)
      FROM pending p WHERE p.endpoint_id IS NOT NULL
    )
    SELECT e.id, e.url, e.enabled, e.secret_sealed, e.previous_secret_sealed, e.previous_secret_expires_at, e.owner_id, e.failing_since, u.role AS owner_role, ${WITHOUT_FLUSH}
    FROM pending p
    JOIN webhook_endpoints e ON e.id = p.endpoint_id
    JOIN users u ON u.id = e.owner_id
    CROSS JOIN LATERAL (SELECT ${inFlight(now)} AS n) busy
    CROSS JOIN LATERAL (SELECT d.next_attempt_at AS at FROM webhook_deliveries d WHERE ${dueFree(now)} ORDER BY d.next_attempt_at LIMIT 1) oldest
    WHERE busy.n < ${slotsOf(perEndpoint)}
    ORDER BY busy.n, oldest.at
    LIMIT ${limit}
    FOR NO KEY UPDATE OF e SKIP LOCKED`);
  return result.rows.map((row) => ({
    id: row.id as string,
    url: row.url as string,
    enabled: row.enabled as boolean,
    secretSealed: row.secret_sealed as string,
    previousSecretSealed: (row.previous_secret_sealed as string | null) ?? null,
    previousSecretExpiresAt: row.previous_secret_expires_at == null ? null : new Date(row.previous_secret_expires_at as string | Date),
    ownerId: row.owner_id as string,
    ownerRole: row.owner_role as ClaimedEndpoint['ownerRole'],
    failingSince: row.failing_since == null ? null : new Date(row.failing_since as string | Date),
  }));
}

/**
 * The ids of the due deliveries to take from the locked endpoints (a subquery of the claim's
 * update), counted again now that they are ours: each endpoint's free slots, oldest first, then
 * round-robin over the endpoints (each one's first before anyone's second, the least busy first)
 * up to `limit`.
 */
export function dueOfLockedEndpoints(endpoints: { id: string }[], now: Date, { limit, perEndpoint }: ClaimLimits): SQL {
  return sql`
    SELECT c.id FROM (
      SELECT d.id, d.next_attempt_at, busy.n + row_number() OVER (PARTITION BY e.id ORDER BY d.next_attempt_at) AS rank
      FROM webhook_endpoints e
      CROSS JOIN LATERAL (SELECT ${inFlight(now)} AS n) busy
      CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at FROM webhook_deliveries d WHERE ${dueFree(now)}
        ORDER BY d.next_attempt_at LIMIT greatest(${slotsOf(perEndpoint)} - busy.n, 0)
        FOR UPDATE SKIP LOCKED
      ) d
      WHERE e.id = ANY(${sql.param(endpoints.map((endpoint) => endpoint.id))}::text[])
    ) c
    ORDER BY c.rank, c.next_attempt_at
    LIMIT ${limit}`;
}

/**
 * The slot handover that recording an attempt may ask for (WebhookDeliveriesRepository.recordAttempts):
 * for each endpoint in `wanted` (a CTE of `endpoint_id, n`), the ids of up to `n` of its due
 * deliveries that no attempt holds, the oldest first, locked, while the endpoint is enabled and
 * healthy (a failing one has one slot, which only the fair claim hands out). Each successor takes
 * the slot of an attempt recorded in the same statement, so the endpoint's count in flight is
 * unchanged and needs no recount: another instance's claim, before or after this commits, counts
 * the same number.
 */
export const successorsOf = (now: Date | Placeholder) => sql`
  SELECT x.id FROM wanted w
  JOIN webhook_endpoints e ON e.id = w.endpoint_id AND e.enabled AND e.failing_since IS NULL
  CROSS JOIN LATERAL (
    SELECT d.id FROM webhook_deliveries d WHERE ${dueFree(now)}
    ORDER BY d.next_attempt_at LIMIT w.n
    FOR UPDATE SKIP LOCKED
  ) x`;

/**
 * The delivery columns handedDelivery reads, named rather than `*`: the statements that return them
 * run prepared, and a column added by a migration would change a `*` statement's result type under
 * a connection that had already prepared it (Postgres refuses that plan once per connection).
 */
export const HANDED_COLUMNS = [
  'id',
  'endpoint_id',
  'owner_id',
  'subject_user_id',
  'event_id',
  'event_type',
  'body',
  'status',
  'attempt_count',
  'next_attempt_at',
  'lease_until',
  'last_error',
  'created_at',
  'completed_at',
] as const;
const columnsOf = (alias: string) => sql.raw(HANDED_COLUMNS.map((column) => `${alias}.${column}`).join(', '));
/** `RETURNING` of the handed-over deliveries (alias `d`). */
export const HANDED_RETURNING = columnsOf('d');

/** The handed-over deliveries (snake_case columns of `handed`) with their endpoints, read as claimDue reads them. */
export const HANDED_WITH_ENDPOINTS = sql`
  SELECT ${columnsOf('h')}, e.url AS e_url, e.enabled AS e_enabled, e.secret_sealed AS e_secret_sealed,
         e.previous_secret_sealed AS e_previous_secret_sealed, e.previous_secret_expires_at AS e_previous_secret_expires_at,
         e.owner_id AS e_owner_id, e.failing_since AS e_failing_since, u.role AS e_owner_role
    FROM handed h JOIN webhook_endpoints e ON e.id = h.endpoint_id JOIN users u ON u.id = e.owner_id`;

const dateOrNull = (value: unknown) => (value == null ? null : new Date(value as string | Date));

/** A row of HANDED_WITH_ENDPOINTS as the claimed delivery an attempt takes. */
export function handedDelivery(row: Record<string, unknown>) {
  return {
    delivery: {
      id: row.id as string,
      endpointId: row.endpoint_id as string,
      ownerId: row.owner_id as string,
      subjectUserId: (row.subject_user_id as string | null) ?? null,
      eventId: row.event_id as string,
      eventType: row.event_type as string,
      body: row.body as string,
      status: row.status as 'PENDING',
      attemptCount: Number(row.attempt_count),
      nextAttemptAt: dateOrNull(row.next_attempt_at),
      leaseUntil: dateOrNull(row.lease_until),
      lastError: (row.last_error as string | null) ?? null,
      createdAt: new Date(row.created_at as string | Date),
      completedAt: dateOrNull(row.completed_at),
    },
    endpoint: {
      id: row.endpoint_id as string,
      url: row.e_url as string,
      enabled: row.e_enabled as boolean,
      secretSealed: row.e_secret_sealed as string,
      previousSecretSealed: (row.e_previous_secret_sealed as string | null) ?? null,
      previousSecretExpiresAt: dateOrNull(row.e_previous_secret_expires_at),
      ownerId: row.e_owner_id as string,
      ownerRole: row.e_owner_role as ClaimedEndpoint['ownerRole'],
      failingSince: dateOrNull(row.e_failing_since),
    },
  };
}
