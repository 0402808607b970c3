import { AnyPgColumn, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn } from '../columns';
import { users } from './users';

export const apiKeyScope = pgEnum('api_key_scope', ['read-only', 'read-write', 'admin', 'verify']);
export const apiKeyEnvironment = pgEnum('api_key_environment', ['live', 'test']);

export const API_KEY_LIMITS = { name: 100 } as const;

/**
 * Only SHA-256 of a key is stored (ASVS 6.5.2 allows a plain hash for 112+ bit secrets), with a
 * display prefix and its last four characters. Rotation leaves the old row valid until
 * `graceEndsAt`; revocation sets `revokedAt`. Each key records what created it: a key
 * (`parentKeyId`) or a login (`parentSessionId`, the refresh-token family), so revoking a key can
 * revoke what it created.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: idColumn('key'),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: API_KEY_LIMITS.name }).notNull(),
    scope: apiKeyScope('scope').notNull(),
    environment: apiKeyEnvironment('environment').notNull(),
    keyHash: text('key_hash').notNull(),
    prefix: varchar('prefix', { length: 40 }).notNull(),
    last4: varchar('last4', { length: 4 }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** Set on rotation: the old key works until then. */
    graceEndsAt: timestamp('grace_ends_at', { withTimezone: true }),
    replacedBy: text('replaced_by'),
    parentKeyId: text('parent_key_id').references((): AnyPgColumn => apiKeys.id, { onDelete: 'set null' }),
    parentSessionId: text('parent_session_id'),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('api_keys_key_hash_key').on(table.keyHash),
    index('api_keys_owner_idx').on(table.ownerId, table.id),
    index('api_keys_parent_key_idx').on(table.parentKeyId),
    index('api_keys_replaced_by_idx').on(table.replacedBy),
  ],
);

/**
 * A key that works on its own terms: not revoked, not replaced by a newer key, not expired. (A
 * replaced key still authenticates during its grace period, but is no longer live.)
 */
export const isLiveKey = (key: Pick<typeof apiKeys.$inferSelect, 'revokedAt' | 'replacedBy' | 'expiresAt'>, now: Date): boolean =>
  !key.revokedAt && !key.replacedBy && !(key.expiresAt && key.expiresAt <= now);

/**
 * Requests per key and hour, flushed in batches from memory. `latencyHistogram[i]` counts requests
 * that took at most LATENCY_BUCKETS_MS[i] ms (the last slot: longer), from which p95 is read.
 */
export const apiKeyUsage = pgTable(
  'api_key_usage',
  {
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id, { onDelete: 'cascade' }),
    hour: timestamp('hour', { withTimezone: true }).notNull(),
    requestCount: integer('request_count').notNull(),
    clientErrorCount: integer('client_error_count').notNull(),
    serverErrorCount: integer('server_error_count').notNull(),
    latencyHistogram: integer('latency_histogram').array().notNull(),
  },
  (table) => [primaryKey({ columns: [table.keyId, table.hour] })],
);

/** Every request made with a key, live or test (both reach the same data); written in batches, purged after AUDIT_LOG_RETENTION_DAYS. */
export const apiKeyAuditLog = pgTable(
  'api_key_audit_log',
  {
    id: idColumn('aud'),
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id, { onDelete: 'cascade' }),
    at: timestamp('at', { withTimezone: true }).notNull(),
    method: varchar('method', { length: 10 }).notNull(),
    route: varchar('route', { length: 300 }).notNull(),
    status: integer('status').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    ip: varchar('ip', { length: 64 }).notNull(),
    userAgent: varchar('user_agent', { length: 512 }),
    requestId: varchar('request_id', { length: 128 }).notNull(),
  },
  (table) => [index('api_key_audit_log_key_idx').on(table.keyId, table.id), index('api_key_audit_log_at_idx').on(table.at)],
);
