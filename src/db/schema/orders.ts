import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from '../columns';
import { products } from './products';
import { users } from './users';

export const orderStatus = pgEnum('order_status', ['PENDING', 'PAID', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED']);

/** An order is created PENDING with the checkout session; Stripe's events move it on. Money in minor units. */
export const orders = pgTable(
  'orders',
  {
    id: idColumn('ord'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    status: orderStatus('status').notNull().default('PENDING'),
    currency: varchar('currency', { length: 3 }).notNull(),
    amountTotalMinor: bigint('amount_total_minor', { mode: 'number' }).notNull(),
    amountRefundedMinor: bigint('amount_refunded_minor', { mode: 'number' }).notNull().default(0),
    stripeSessionId: varchar('stripe_session_id', { length: 255 }),
    stripePaymentIntentId: varchar('stripe_payment_intent_id', { length: 255 }),
    paidAt: timestamp('paid_at', { withTimezone: true }),
    /** Paid for more units than were in stock; someone has to restock or refund. */
    oversold: boolean('oversold').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('orders_user_idx').on(table.userId, table.id),
    uniqueIndex('orders_stripe_session_key').on(table.stripeSessionId),
    index('orders_payment_intent_idx').on(table.stripePaymentIntentId),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    id: idColumn('oit'),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    quantity: integer('quantity').notNull(),
    unitNetMinor: bigint('unit_net_minor', { mode: 'number' }).notNull(),
    vatBasisPoints: integer('vat_basis_points').notNull(),
    unitGrossMinor: bigint('unit_gross_minor', { mode: 'number' }).notNull(),
  },
  (table) => [index('order_items_order_idx').on(table.orderId)],
);

/** Every verified Stripe event, keyed by Stripe's id: a redelivery finds its row and has no second effect. */
export const stripeEvents = pgTable('stripe_events', {
  id: varchar('id', { length: 255 }).primaryKey(),
  type: varchar('type', { length: 100 }).notNull(),
  payload: jsonb('payload').notNull(),
  /** What applying it did (`APPLIED`, `IGNORED`, or why it was refused, e.g. `SESSION_MISMATCH`); null on rows from before it was recorded. */
  outcome: varchar('outcome', { length: 50 }),
  receivedAt: createdAt(),
});
