import { bigint, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from '../columns';
import { users } from './users';

/**
 * A user's TOTP authenticator. Set up but unconfirmed while `confirmedAt` is null: two-factor
 * login is on from confirmation. The secret is sealed by SecretBox, never stored in the clear.
 */
export const totpCredentials = pgTable('totp_credentials', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretSealed: text('secret_sealed').notNull(),
  confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
  /** The last time step (unix seconds / 30) a code was accepted in: a code works once. */
  lastUsedStep: bigint('last_used_step', { mode: 'number' }),
  /** Wrong second factors since the last right one or the last lockout, across every challenge. */
  failedAttempts: integer('failed_attempts').notNull().default(0),
  /** Lockouts since the last right second factor: each one lasts twice as long as the one before. */
  lockouts: integer('lockouts').notNull().default(0),
  /** Until then every second factor is refused, the right one too. */
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * Single-use recovery codes, stored as an HMAC keyed from the data encryption key (`v1.<hex>`;
 * codes from before are plain SHA-256 hex, and still match); a new confirmation replaces the set.
 */
export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: idColumn('rcv'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('recovery_codes_user_code_key').on(table.userId, table.codeHash)],
);

export const twoFactorChallengePurpose = pgEnum('two_factor_challenge_purpose', ['TOTP', 'TOTP_SETUP']);

/**
 * What a password login hands out instead of a session when a second factor is due: TOTP (verify
 * a code) or TOTP_SETUP (an ADMIN under REQUIRE_2FA_FOR_ADMINS enrols first). Spent once.
 */
export const twoFactorChallenges = pgTable(
  'two_factor_challenges',
  {
    id: idColumn('tfc'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: twoFactorChallengePurpose('purpose').notNull(),
    /** SHA-256 of the secret part; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    createdAt: createdAt(),
  },
  (table) => [index('two_factor_challenges_user_idx').on(table.userId)],
);
