import { sql } from 'drizzle-orm';
import { bigint, boolean, char, check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from '../columns';
import { accounts } from './accounts';
import { GEO_SCOPES } from './geo-scopes';
import { users } from './users';

export const PRESET_PLAN_CODES = ['NONE', 'TRIAL', 'ENTRY_MONTHLY', 'ENTRY_YEARLY', 'PREMIUM_MONTHLY', 'PREMIUM_YEARLY'] as const;
export const PLAN_CODES = [...PRESET_PLAN_CODES, 'CUSTOM'] as const;

export const planCode = pgEnum('plan_code', PLAN_CODES);
export const durationUnit = pgEnum('duration_unit', ['DAY', 'MONTH', 'YEAR']);
export const limitResetPeriod = pgEnum('limit_reset_period', ['NONE', 'DAILY', 'MONTHLY', 'YEARLY']);
export const geoScope = pgEnum('geo_scope', GEO_SCOPES);
export const subscriptionStatus = pgEnum('subscription_status', ['NONE', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED']);
export const subscriptionChangeSource = pgEnum('subscription_change_source', ['ADMIN', 'USER', 'STRIPE', 'EXPIRY']);

export const PLAN_LIMITS = { name: 100, apiVersion: 10, endpoint: 100, stripePriceId: 255, stripeId: 255, limits: 100 } as const;

export type PlanName = { en: string; tr: string; ar: string };
export type PlanLimit = { apiVersion: string; endpoint: string; maxCalls: number };
export type RateLimitTerms = { count: number; windowSeconds: number };
export type PlanDuration = { unit: (typeof durationUnit.enumValues)[number]; count: number };

/**
 * What a subscription may do, copied from its plan when a period starts: an ADMIN editing a plan
 * changes the next period, never the running one. The metering issue counts against these.
 */
export type PlanTerms = {
  limitResetPeriod: (typeof limitResetPeriod.enumValues)[number];
  geoScope: (typeof GEO_SCOPES)[number][];
  limits: PlanLimit[];
  /** Null: the AUTHENTICATED rate-limit policy's defaults. */
  rateLimit: RateLimitTerms | null;
};

/**
 * The six presets (one row each, made by a migration) and CUSTOM plans, one per ADMIN assignment,
 * owned by the account they were made for. Prices are integer minor units, as products' are.
 */
export const plans = pgTable(
  'plans',
  {
    id: idColumn('pln'),
    code: planCode('code').notNull(),
    /** Set only on CUSTOM plans. */
    accountId: text('account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    name: jsonb('name').$type<PlanName>().notNull(),
    /** Both null: no end (NONE). */
    durationUnit: durationUnit('duration_unit'),
    durationCount: integer('duration_count'),
    limitResetPeriod: limitResetPeriod('limit_reset_period').notNull(),
    geoScope: geoScope('geo_scope').array().notNull(),
    limits: jsonb('limits').$type<PlanLimit[]>().notNull(),
    rateLimitCount: integer('rate_limit_count'),
    rateLimitWindowSeconds: integer('rate_limit_window_seconds'),
    priceMinor: bigint('price_minor', { mode: 'number' }).notNull().default(0),
    currency: char('currency', { length: 3 }).notNull().default('USD'),
    stripePriceId: varchar('stripe_price_id', { length: PLAN_LIMITS.stripePriceId }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('plans_preset_code_key')
      .on(table.code)
      .where(sql`code <> 'CUSTOM'`),
    uniqueIndex('plans_stripe_price_id_key').on(table.stripePriceId),
    index('plans_account_idx').on(table.accountId),
    check('plans_custom_account_check', sql`(${table.code} = 'CUSTOM') = (${table.accountId} IS NOT NULL)`),
    check(
      'plans_duration_check',
      sql`(${table.durationUnit} IS NULL) = (${table.durationCount} IS NULL) AND (${table.durationCount} IS NULL OR ${table.durationCount} >= 1)`,
    ),
    check(
      'plans_rate_limit_check',
      sql`(${table.rateLimitCount} IS NULL) = (${table.rateLimitWindowSeconds} IS NULL) AND (${table.rateLimitCount} IS NULL OR (${table.rateLimitCount} >= 1 AND ${table.rateLimitWindowSeconds} >= 1))`,
    ),
    check('plans_geo_scope_check', sql`cardinality(${table.geoScope}) >= 1`),
    check('plans_price_minor_check', sql`${table.priceMinor} >= 0`),
  ],
);

/**
 * One per account: its current plan, period and the terms snapshotted when the period started.
 * No row reads as NONE. `expiresAt` is when it falls back to NONE unless renewed (read lazily,
 * recorded by the expiry sweep); the Stripe fields stay null for subscriptions not paid there.
 */
export const subscriptions = pgTable(
  'subscriptions',
  {
    id: idColumn('sub'),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    planId: text('plan_id')
      .notNull()
      .references(() => plans.id),
    status: subscriptionStatus('status').notNull(),
    /** Where usage counting starts: every plan change starts a new period. */
    currentPeriodStart: timestamp('current_period_start', { withTimezone: true }).notNull(),
    currentPeriodEnd: timestamp('current_period_end', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    cancelAtPeriodEnd: boolean('cancel_at_period_end').notNull().default(false),
    terms: jsonb('terms').$type<PlanTerms>().notNull(),
    stripeCustomerId: varchar('stripe_customer_id', { length: PLAN_LIMITS.stripeId }),
    stripeSubscriptionId: varchar('stripe_subscription_id', { length: PLAN_LIMITS.stripeId }),
    /** Stripe's status of that subscription as last applied; `canceled` is final, nothing revives it. */
    stripeStatus: varchar('stripe_status', { length: 30 }),
    /**
     * The order of the last Stripe state applied: the Stripe object's own period end, then the
     * event's `created`. Stripe delivers out of order; an event older than this is not applied.
     */
    stripeStateAt: timestamp('stripe_state_at', { withTimezone: true }),
    stripeEventAt: timestamp('stripe_event_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('subscriptions_account_id_key').on(table.accountId),
    uniqueIndex('subscriptions_stripe_subscription_id_key').on(table.stripeSubscriptionId),
    index('subscriptions_user_idx').on(table.userId),
    index('subscriptions_expires_at_idx')
      .on(table.expiresAt)
      .where(sql`expires_at IS NOT NULL`),
  ],
);

/**
 * One row per change of a subscription's plan or state: who (`actorUserId`, null for EXPIRY and
 * STRIPE), what (the plans), when, and why (`source`). A user's TRIAL is recorded here once, ever:
 * the partial unique index keeps it so even if two requests raced past every other check.
 */
export const subscriptionChanges = pgTable(
  'subscription_changes',
  {
    id: idColumn('sbc'),
    subscriptionId: text('subscription_id')
      .notNull()
      .references(() => subscriptions.id, { onDelete: 'cascade' }),
    accountId: text('account_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    source: subscriptionChangeSource('source').notNull(),
    actorUserId: text('actor_user_id').references(() => users.id, { onDelete: 'set null' }),
    previousPlanId: text('previous_plan_id').references(() => plans.id),
    previousPlanCode: planCode('previous_plan_code'),
    planId: text('plan_id')
      .notNull()
      .references(() => plans.id),
    planCode: planCode('plan_code').notNull(),
    status: subscriptionStatus('status').notNull(),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    periodEnd: timestamp('period_end', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    index('subscription_changes_subscription_idx').on(table.subscriptionId, table.id),
    uniqueIndex('subscription_changes_one_trial_key')
      .on(table.userId)
      .where(sql`plan_code = 'TRIAL' AND previous_plan_code IS DISTINCT FROM 'TRIAL'`),
  ],
);

/** Each Stripe invoice paid for a subscription, once by its id: a redelivered invoice.paid extends nothing twice. */
export const subscriptionInvoices = pgTable('subscription_invoices', {
  id: varchar('id', { length: PLAN_LIMITS.stripeId }).primaryKey(),
  subscriptionId: text('subscription_id')
    .notNull()
    .references(() => subscriptions.id, { onDelete: 'cascade' }),
  periodEnd: timestamp('period_end', { withTimezone: true }).notNull(),
  amountPaidMinor: bigint('amount_paid_minor', { mode: 'number' }).notNull(),
  currency: char('currency', { length: 3 }).notNull(),
  createdAt: createdAt(),
});

/**
 * An account's one Stripe Checkout Session for a plan, so concurrent checkouts cannot open two
 * sessions (and so two Stripe subscriptions). A request claims the row with a conditional write
 * before it calls Stripe; while the claim holds and no session is recorded, others wait for it.
 * A claim past `claimedUntil` with no session (its request died) and a session past `expiresAt`
 * may be taken over.
 */
export const subscriptionCheckouts = pgTable(
  'subscription_checkouts',
  {
    accountId: text('account_id')
      .primaryKey()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    claimId: text('claim_id').notNull(),
    claimedUntil: timestamp('claimed_until', { withTimezone: true }).notNull(),
    planCode: planCode('plan_code').notNull(),
    successUrl: varchar('success_url', { length: 2048 }).notNull(),
    cancelUrl: varchar('cancel_url', { length: 2048 }).notNull(),
    /** Null while the claim's request is making the session at Stripe. */
    sessionId: varchar('session_id', { length: PLAN_LIMITS.stripeId }),
    url: text('url'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    check(
      'subscription_checkouts_session_check',
      sql`(${table.sessionId} IS NULL) = (${table.url} IS NULL) AND (${table.sessionId} IS NULL) = (${table.expiresAt} IS NULL)`,
    ),
  ],
);
