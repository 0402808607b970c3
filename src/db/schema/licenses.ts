import { index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn } from '../columns';
import { orders } from './orders';
import { products } from './products';
import { users } from './users';

export const licenseStatus = pgEnum('license_status', ['ACTIVE', 'SUSPENDED', 'REVOKED']);

export const LICENSE_LIMITS = { fingerprint: 200, name: 200, platform: 100 } as const;

/** The key is stored only as SHA-256 (validate looks it up by hash); it is shown once, when granted. */
export const licenses = pgTable(
  'licenses',
  {
    id: idColumn('lic'),
    keyHash: text('key_hash').notNull(),
    /** The key's first group, to recognise it in lists (`ABCDE-…`). */
    keyPrefix: varchar('key_prefix', { length: 5 }).notNull(),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    orderId: text('order_id').references(() => orders.id),
    status: licenseStatus('status').notNull().default('ACTIVE'),
    maxActivations: integer('max_activations').notNull(),
    /** Null: perpetual. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastValidatedAt: timestamp('last_validated_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('licenses_key_hash_key').on(table.keyHash),
    index('licenses_user_idx').on(table.userId, table.id),
    // A refund revokes an order's licenses by this column.
    index('licenses_order_idx').on(table.orderId),
  ],
);

export const activations = pgTable(
  'activations',
  {
    id: idColumn('act'),
    licenseId: text('license_id')
      .notNull()
      .references(() => licenses.id, { onDelete: 'cascade' }),
    fingerprint: varchar('fingerprint', { length: LICENSE_LIMITS.fingerprint }).notNull(),
    name: varchar('name', { length: LICENSE_LIMITS.name }),
    platform: varchar('platform', { length: LICENSE_LIMITS.platform }),
    ip: varchar('ip', { length: 64 }).notNull(),
    createdAt: createdAt(),
    lastValidatedAt: timestamp('last_validated_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('activations_license_fingerprint_key').on(table.licenseId, table.fingerprint)],
);
