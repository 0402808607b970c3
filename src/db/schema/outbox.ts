import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, timestamp, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn } from '../columns';

/**
 * The transactional outbox: each state change writes its outbound event here in the same
 * transaction. Delivery to customer endpoints (signing, retries) belongs to the webhooks module.
 */
export const outboxMessages = pgTable(
  'outbox_messages',
  {
    id: idColumn('obx'),
    type: varchar('type', { length: 100 }).notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: createdAt(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (table) => [
    index('outbox_messages_pending_idx')
      .on(table.createdAt)
      .where(sql`delivered_at IS NULL`),
  ],
);
