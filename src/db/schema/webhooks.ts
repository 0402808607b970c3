import { boolean, index, pgEnum, pgTable, text, timestamp, varchar } from 'drizzle-orm/pg-core';
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
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [index('webhook_endpoints_owner_idx').on(table.ownerId, table.id)],
);
