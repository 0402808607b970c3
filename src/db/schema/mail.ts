import { sql } from 'drizzle-orm';
import { index, integer, pgEnum, pgTable, text, timestamp, varchar } from 'drizzle-orm/pg-core';
import { idColumn } from '../columns';
import { language, USER_LIMITS } from './users';

export const outboundMailStatus = pgEnum('outbound_mail_status', ['PENDING', 'SENT', 'FAILED']);

/**
 * The mail outbox: each mail is written here in the transaction of the change that causes it, and
 * the mail sender delivers it afterwards with retries. Not the event outbox (outbox_messages):
 * those rows are published events fanned out to webhook endpoints, with one delivered stamp; a mail
 * has a recipient, its own retry state and secrets. The template's parameters are stored, not the
 * rendered text (translated when sent), sealed with the SecretBox: they hold reset and activation
 * links and license keys. A send is made by whoever holds the lease (`leaseUntil`), so two
 * instances never send one mail at once.
 */
export const outboundMails = pgTable(
  'outbound_mails',
  {
    id: idColumn('eml'),
    recipient: varchar('recipient', { length: USER_LIMITS.email }).notNull(),
    template: varchar('template', { length: 64 }).notNull(),
    language: language('language').notNull(),
    /** JSON of the template's parameters, sealed (SecretBox). */
    paramsSealed: text('params_sealed').notNull(),
    status: outboundMailStatus('status').notNull().default('PENDING'),
    /** Attempts started: counted at the claim, so a crash mid-send still counts. */
    attemptCount: integer('attempt_count').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    lastError: varchar('last_error', { length: 500 }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** SENT or FAILED (the dead letter) at; purged MAIL_RETENTION_DAYS later. */
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (table) => [
    index('outbound_mails_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`status = 'PENDING'`),
    // The per-address cap counts one address's recent mails at each request.
    index('outbound_mails_recipient_idx').on(sql`lower(${table.recipient})`, table.createdAt),
    index('outbound_mails_completed_idx')
      .on(table.completedAt)
      .where(sql`completed_at IS NOT NULL`),
  ],
);
