import { customType, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from '../columns';

/** Case-insensitive text (the citext extension): `A@x.com` and `a@x.com` are one email. */
const citext = customType<{ data: string }>({ dataType: () => 'citext' });

export const userRole = pgEnum('user_role', ['USER', 'ADMIN']);
export const userStatus = pgEnum('user_status', ['INACTIVE', 'ACTIVE', 'SUSPENDED']);
export const language = pgEnum('language', ['en', 'tr', 'ar']);

export const USER_LIMITS = { email: 254, name: 100, locale: 35, timezone: 64 } as const;

export const users = pgTable(
  'users',
  {
    id: idColumn('usr'),
    email: citext('email').notNull(),
    /** Null for a user who signs in only through an OIDC provider (user_identities). */
    passwordHash: text('password_hash'),
    firstName: varchar('first_name', { length: USER_LIMITS.name }).notNull(),
    middleName: varchar('middle_name', { length: USER_LIMITS.name }),
    lastName: varchar('last_name', { length: USER_LIMITS.name }).notNull(),
    language: language('language').notNull().default('en'),
    locale: varchar('locale', { length: USER_LIMITS.locale }).notNull(),
    timezone: varchar('timezone', { length: USER_LIMITS.timezone }).notNull(),
    role: userRole('role').notNull().default('USER'),
    status: userStatus('status').notNull().default('INACTIVE'),
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [uniqueIndex('users_email_key').on(table.email), index('users_status_idx').on(table.status, table.id)],
);

/**
 * Refresh tokens rotate: each use replaces the token with a new one in the same family. A token
 * presented again within the reuse interval gets the same successor; later, it means it leaked,
 * and the whole family is revoked.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: idColumn('rtk'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: text('family_id').notNull(),
    /** SHA-256 of the secret part; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    replacedBy: text('replaced_by'),
    createdAt: createdAt(),
  },
  (table) => [index('refresh_tokens_family_idx').on(table.familyId), index('refresh_tokens_user_idx').on(table.userId)],
);

export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    id: idColumn('prt'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [index('password_reset_tokens_user_idx').on(table.userId)],
);

/**
 * Failed logins per key (`email:<email>` and `email-ip:<email>|<ip, IPv6 by its /64>`) in a fixed window. Kept in
 * Postgres so every instance counts against the same limit.
 */
export const loginFailures = pgTable('login_failures', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  windowEndsAt: timestamp('window_ends_at', { withTimezone: true }).notNull(),
});
