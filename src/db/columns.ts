import { text, timestamp } from 'drizzle-orm/pg-core';
import { IdPrefix, newId } from '../lib/ids';

/** A TypeID primary key generated in the application, so inserts never depend on a sequence. */
export const idColumn = (prefix: IdPrefix) =>
  text('id')
    .primaryKey()
    .$defaultFn(() => newId(prefix));

export const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

export const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true, mode: 'date' })
    .notNull()
    .defaultNow()
    .$onUpdateFn(() => new Date());
