import { index, pgTable, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn } from '../columns';
import { USER_LIMITS, users } from './users';

export const IDENTITY_LIMITS = { provider: 32, subject: 255 } as const;

/**
 * A user's sign-in at an external OIDC provider: `(provider, subject)` is the provider's own
 * identifier for the person and names one user at most. `email` is what the provider said when
 * the identity was linked, kept for the user to recognise it; sign-in never matches on it again.
 */
export const userIdentities = pgTable(
  'user_identities',
  {
    id: idColumn('idn'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    provider: varchar('provider', { length: IDENTITY_LIMITS.provider }).notNull(),
    subject: varchar('subject', { length: IDENTITY_LIMITS.subject }).notNull(),
    email: varchar('email', { length: USER_LIMITS.email }),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('user_identities_provider_subject_key').on(table.provider, table.subject), index('user_identities_user_idx').on(table.userId)],
);
