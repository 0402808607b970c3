import { boolean, date, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from '../columns';
import { users } from './users';

export const accountType = pgEnum('account_type', ['INDIVIDUAL', 'CORPORATE']);
export const accountStatus = pgEnum('account_status', ['PENDING', 'ACTIVE', 'SUSPENDED']);

export const ACCOUNT_LIMITS = { phone: 16, address: 500, company: 200, industry: 100 } as const;

/**
 * One per user. The emailed activation token and the texted phone code are stored only as
 * SHA-256 hashes, with their expiries, attempt counters and the SMS send window.
 */
export const accounts = pgTable(
  'accounts',
  {
    id: idColumn('acc'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    accountType: accountType('account_type').notNull(),
    mobilePhone: varchar('mobile_phone', { length: ACCOUNT_LIMITS.phone }).notNull(),
    address: varchar('address', { length: ACCOUNT_LIMITS.address }).notNull(),
    company: varchar('company', { length: ACCOUNT_LIMITS.company }),
    industry: varchar('industry', { length: ACCOUNT_LIMITS.industry }),
    status: accountStatus('status').notNull().default('PENDING'),
    emailVerified: boolean('email_verified').notNull().default(false),
    phoneVerified: boolean('phone_verified').notNull().default(false),
    emailTokenHash: text('email_token_hash'),
    emailTokenExpiresAt: timestamp('email_token_expires_at', { withTimezone: true }),
    phoneCodeHash: text('phone_code_hash'),
    phoneCodeExpiresAt: timestamp('phone_code_expires_at', { withTimezone: true }),
    phoneCodeAttempts: integer('phone_code_attempts').notNull().default(0),
    phoneSendsInWindow: integer('phone_sends_in_window').notNull().default(0),
    phoneSendWindowEndsAt: timestamp('phone_send_window_ends_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [uniqueIndex('accounts_user_id_key').on(table.userId)],
);

/**
 * Texts sent to each phone number per UTC day, whatever the account: one user cannot flood a
 * number by creating accounts, and the per-account limit alone would not stop that.
 */
export const phoneSendCounts = pgTable(
  'phone_send_counts',
  {
    mobilePhone: varchar('mobile_phone', { length: ACCOUNT_LIMITS.phone }).notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    sends: integer('sends').notNull(),
  },
  (table) => [primaryKey({ columns: [table.mobilePhone, table.day] })],
);
