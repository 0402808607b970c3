import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from '../columns';
import { users } from './users';

/** `own`: events about the owner's resources; `all` (an ADMIN's only): every user's events. */
export const webhookEndpointScope = pgEnum('webhook_endpoint_scope', ['own', 'all']);
/** OWNER: turned off by its owner; GONE: the receiver answered 410; FAILING: every delivery failed for days. */
export const webhookEndpointDisabledReason = pgEnum('webhook_endpoint_disabled_reason', ['OWNER', 'GONE', 'FAILING']);

export const WEBHOOK_ENDPOINT_LIMITS = { url: 2048, description: 500, events: 100 } as const;

/**
 * Where a customer receives events. The signing secret is stored sealed (SecretBox, AES-256-GCM),
 * not hashed: signing needs the secret itself. After a rotation the previous secret also signs
 * until `previousSecretExpiresAt`.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: idColumn('whe'),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    scope: webhookEndpointScope('scope').notNull().default('own'),
    url: varchar('url', { length: WEBHOOK_ENDPOINT_LIMITS.url }).notNull(),
    /** Event types, or `*` for every type. */
    events: text('events').array().notNull(),
    description: varchar('description', { length: WEBHOOK_ENDPOINT_LIMITS.description }),
    enabled: boolean('enabled').notNull().default(true),
    secretSealed: text('secret_sealed').notNull(),
    previousSecretSealed: text('previous_secret_sealed'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    disabledReason: webhookEndpointDisabledReason('disabled_reason'),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /** Since when every delivery has failed (null after any success): 5 days of it disable the endpoint. */
    failingSince: timestamp('failing_since', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('webhook_endpoints_owner_idx').on(table.ownerId, table.id),
    // The few endpoints that hear every user's events: the fan-out asks for them with every event.
    index('webhook_endpoints_all_scope_idx')
      .on(table.ownerId)
      .where(sql`scope = 'all'`),
  ],
);

export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', ['PENDING', 'SUCCEEDED', 'FAILED']);

/**
 * One event for one endpoint, fanned out from the outbox. `eventId` is the published event id
 * (webhook-id), the same on every attempt. A delivery is attempted by whoever holds its lease: the
 * claim sets `leaseUntil` past the attempt's timeout, so two instances never attempt it at once,
 * and a crash mid-attempt only delays it until the lease runs out.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: idColumn('whd'),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    /** The endpoint's owner, for owner-scoped reads without a join. */
    ownerId: text('owner_id').notNull(),
    /**
     * The user the event is about (its payload's `userId`; a ping's is the endpoint's owner). An
     * owner who is not an ADMIN sees and replays only the deliveries about themselves.
     */
    subjectUserId: text('subject_user_id'),
    eventId: varchar('event_id', { length: 40 }).notNull(),
    eventType: varchar('event_type', { length: 100 }).notNull(),
    /** The exact body sent: `{id, object, type, created, data: {object}}`. */
    body: text('body').notNull(),
    status: webhookDeliveryStatus('status').notNull().default('PENDING'),
    attemptCount: integer('attempt_count').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastError: varchar('last_error', { length: 500 }),
    createdAt: createdAt(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('webhook_deliveries_endpoint_event_key').on(table.endpointId, table.eventId),
    // Claims walk the endpoints that have pending deliveries, then each one's oldest due.
    index('webhook_deliveries_pending_idx')
      .on(table.endpointId, table.nextAttemptAt)
      .where(sql`status = 'PENDING'`),
    // Attempts in flight (and leases a crash left behind), counted per endpoint at each claim.
    index('webhook_deliveries_leased_idx')
      .on(table.endpointId)
      .where(sql`lease_until IS NOT NULL`),
    index('webhook_deliveries_owner_idx').on(table.ownerId, table.id),
    index('webhook_deliveries_completed_idx')
      .on(table.completedAt)
      .where(sql`completed_at IS NOT NULL`),
  ],
);

/** Each attempt of a delivery: when, what came back (the first 4 KiB), how long it took, and why it failed. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: idColumn('wha'),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    responseBody: text('response_body'),
    failure: varchar('failure', { length: 500 }),
  },
  (table) => [index('webhook_attempts_delivery_idx').on(table.deliveryId, table.attemptedAt)],
);
