import { index, pgEnum, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn } from '../columns';
import { users } from './users';

export const apiKeyScope = pgEnum('api_key_scope', ['read-only', 'read-write', 'admin']);
export const apiKeyEnvironment = pgEnum('api_key_environment', ['live', 'test']);

export const API_KEY_LIMITS = { name: 100 } as const;

/**
 * Only SHA-256 of a key is stored (ASVS 6.5.2 allows a plain hash for 112+ bit secrets), with a
 * display prefix and its last four characters. Rotation leaves the old row valid until
 * `graceEndsAt`; revocation sets `revokedAt`.
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
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('api_keys_key_hash_key').on(table.keyHash), index('api_keys_owner_idx').on(table.ownerId, table.id)],
);
