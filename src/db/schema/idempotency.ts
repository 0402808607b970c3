import { check, index, integer, jsonb, pgTable, text, timestamp, varchar } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * One row per Idempotency-Key in use: claimed (in flight, `responseStatus` null, held until
 * `leaseUntil`), then completed with the response to replay until `expiresAt` (24 h). `id` is a
 * SHA-256 of (principal, method, path, key), so a key is only ever the same key for the same
 * caller on the same route. The body is sealed with the SecretBox: it may hold a secret shown once.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: varchar('id', { length: 64 }).primaryKey(),
    /** SHA-256 of the canonical request body: the same key with another body is misuse. */
    requestHash: varchar('request_hash', { length: 64 }).notNull(),
    /** Who holds the claim: completing or freeing it is refused to anyone else (a lease taken over). */
    claimId: varchar('claim_id', { length: 36 }).notNull(),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }).notNull(),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBodySealed: text('response_body_sealed'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [
    index('idempotency_keys_expires_at_idx').on(table.expiresAt),
    check('idempotency_keys_response_check', sql`(${table.responseStatus} IS NULL) = (${table.responseBodySealed} IS NULL)`),
  ],
);
