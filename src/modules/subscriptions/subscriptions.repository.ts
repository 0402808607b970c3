import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, isNotNull, lte, ne, SQL, sql } from 'drizzle-orm';
import { Database, DB } from '../../db/database';
import { accounts, plans, subscriptionChanges, subscriptionInvoices, subscriptions } from '../../db/schema';
import type { Executor, Transaction } from '../../db/database';
import type { PlanRow } from './plans.repository';
import { isUniqueViolation } from '../../db/unique-violation';
import type { GeoScope } from '../../common/geo/geo-scopes';

export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type NewSubscription = typeof subscriptions.$inferInsert;
export type NewSubscriptionChange = typeof subscriptionChanges.$inferInsert;
export type NewSubscriptionInvoice = typeof subscriptionInvoices.$inferInsert;
export type SubscriptionStatus = SubscriptionRow['status'];
export type SubscriptionChanges = Partial<Omit<NewSubscription, 'id' | 'accountId' | 'userId' | 'createdAt'>>;

/** A subscription with the plan it is on. */
export interface CurrentSubscription {
  subscription: SubscriptionRow;
  plan: PlanRow;
}

/** An account for the ADMIN list, with its subscription when it has one (none reads as NONE). */
export interface AccountSubscription {
  accountId: string;
  userId: string;
  current: CurrentSubscription | null;
}

export interface AdminListFilter {
  status?: SubscriptionStatus;
  plan?: PlanRow['code'];
}

/** A user's account, subscription and its plan's code, as metering reads them; all null without an account. */
export type SubscriptionSnapshotRow = { accountId: string | null; subscription: SubscriptionRow | null; planCode: PlanRow['code'] | null };

@Injectable()
export class SubscriptionsRepository {
  /** The hot path of metering: one prepared query from the user to its plan (metering caches it). */
  private readonly snapshotStatement;

  constructor(@Inject(DB) private readonly db: Database) {
    this.snapshotStatement = this.db
      .select({ accountId: accounts.id, subscription: subscriptions, planCode: plans.code })
      .from(accounts)
      .leftJoin(subscriptions, eq(subscriptions.accountId, accounts.id))
      .leftJoin(plans, eq(plans.id, subscriptions.planId))
      .where(eq(accounts.userId, sql.placeholder('userId')))
      .limit(1)
      .prepare('subscription_snapshot');
  }

  async snapshotOf(userId: string): Promise<SubscriptionSnapshotRow> {
    const [row] = await this.snapshotStatement.execute({ userId });
    return row ?? { accountId: null, subscription: null, planCode: null };
  }

  /**
   * Some subscription's snapshotted geoScope that keeps callers out (one without ALL), if any has
   * one: a period keeps the scope its plan had when it started, after the plan drops it.
   */
  async findPlaceRestrictingTerms(): Promise<GeoScope[] | undefined> {
    const [row] = await this.db
      .select({ geoScope: sql<GeoScope[]>`${subscriptions.terms}->'geoScope'` })
      .from(subscriptions)
      .where(sql`NOT (${subscriptions.terms}->'geoScope' ? 'ALL')`)
      .limit(1);
    return row?.geoScope;
  }

  async findByAccount(accountId: string): Promise<CurrentSubscription | undefined> {
    const [row] = await this.db
      .select({ subscription: subscriptions, plan: plans })
      .from(subscriptions)
      .innerJoin(plans, eq(plans.id, subscriptions.planId))
      .where(eq(subscriptions.accountId, accountId));
    return row;
  }

  /**
   * The account's subscription, locked until the caller's transaction ends, so changes to one
   * account are applied one at a time. An account without one gets `seed` first (concurrent
   * callers wait on the unique account index, then on the row lock).
   */
  async lockForAccount(tx: Transaction, seed: NewSubscription & { accountId: string }): Promise<CurrentSubscription> {
    await tx.insert(subscriptions).values(seed).onConflictDoNothing({ target: subscriptions.accountId });
    const [row] = await tx
      .select({ subscription: subscriptions, plan: plans })
      .from(subscriptions)
      .innerJoin(plans, eq(plans.id, subscriptions.planId))
      .where(eq(subscriptions.accountId, seed.accountId))
      .for('update', { of: subscriptions });
    return row!;
  }

  /** The ids of subscriptions whose term has ended on a plan other than NONE, oldest first. */
  async expiredIds(now: Date, limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ id: subscriptions.id })
      .from(subscriptions)
      .innerJoin(plans, eq(plans.id, subscriptions.planId))
      .where(and(isNotNull(subscriptions.expiresAt), lte(subscriptions.expiresAt, now), ne(plans.code, 'NONE')))
      .orderBy(asc(subscriptions.expiresAt))
      .limit(limit);
    return rows.map((row) => row.id);
  }

  /** The account an ADMIN names, with its owner; ADMIN routes only. */
  async findAccount(accountId: string): Promise<{ accountId: string; userId: string } | undefined> {
    const [row] = await this.db.select({ accountId: accounts.id, userId: accounts.userId }).from(accounts).where(eq(accounts.id, accountId));
    return row;
  }

  /** Locks one subscription, skipping it while a request holds it (the next sweep takes it). */
  async lockUnlessBusy(tx: Transaction, id: string): Promise<CurrentSubscription | undefined> {
    const [row] = await tx
      .select({ subscription: subscriptions, plan: plans })
      .from(subscriptions)
      .innerJoin(plans, eq(plans.id, subscriptions.planId))
      .where(eq(subscriptions.id, id))
      .for('update', { of: subscriptions, skipLocked: true });
    return row;
  }

  /**
   * Whose subscription a Stripe object belongs to: by its Stripe subscription id, else by the
   * account's Stripe customer (the first events of a new subscription can arrive before
   * checkout.session.completed stores its id). Not locked: the caller locks the account's row.
   */
  async findOwnerByStripe(
    tx: Executor,
    ref: { stripeSubscriptionId: string; stripeCustomerId: string | null },
  ): Promise<{ accountId: string; userId: string } | undefined> {
    const owner = { accountId: subscriptions.accountId, userId: subscriptions.userId };
    const [bySubscription] = await tx.select(owner).from(subscriptions).where(eq(subscriptions.stripeSubscriptionId, ref.stripeSubscriptionId));
    if (bySubscription || !ref.stripeCustomerId) return bySubscription;
    const [byCustomer] = await tx.select(owner).from(subscriptions).where(eq(subscriptions.stripeCustomerId, ref.stripeCustomerId)).limit(1);
    return byCustomer;
  }

  /** Records a paid Stripe invoice once by its id (ON CONFLICT DO NOTHING: the caller's transaction goes on). */
  async insertInvoiceOnce(tx: Executor, invoice: NewSubscriptionInvoice): Promise<{ outcome: 'created' } | { outcome: 'duplicate' }> {
    const [inserted] = await tx.insert(subscriptionInvoices).values(invoice).onConflictDoNothing().returning({ id: subscriptionInvoices.id });
    return inserted ? { outcome: 'created' } : { outcome: 'duplicate' };
  }

  async update(tx: Executor, id: string, changes: SubscriptionChanges): Promise<SubscriptionRow> {
    const [row] = await tx.update(subscriptions).set(changes).where(eq(subscriptions.id, id)).returning();
    return row!;
  }

  /**
   * Records one history row, unless it would be the user's second TRIAL: the partial unique index
   * on history rows is the last word if a race slipped past the caller's checks, and the caller's
   * transaction is then aborted.
   */
  async insertChange(tx: Executor, change: NewSubscriptionChange): Promise<{ outcome: 'recorded' } | { outcome: 'second-trial' }> {
    try {
      await tx.insert(subscriptionChanges).values(change);
      return { outcome: 'recorded' };
    } catch (error) {
      if (isUniqueViolation(error, 'subscription_changes_one_trial_key')) return { outcome: 'second-trial' };
      throw error;
    }
  }

  /** Whether the user has ever been put on TRIAL, by any account or source (read through the one-trial index). */
  async hasEnteredTrial(tx: Executor, userId: string): Promise<boolean> {
    const [row] = await tx
      .select({ id: subscriptionChanges.id })
      .from(subscriptionChanges)
      .where(
        and(
          eq(subscriptionChanges.userId, userId),
          sql`${subscriptionChanges.planCode} = 'TRIAL' AND ${subscriptionChanges.previousPlanCode} IS DISTINCT FROM 'TRIAL'`,
        ),
      )
      .limit(1);
    return row !== undefined;
  }

  /**
   * Every account with its subscription, filtered by what it reads as at `now`. The CASEs are
   * `SubscriptionTermsService.asOf`'s expiry rule in SQL: an account without a row, or past `expiresAt`,
   * is on NONE.
   */
  async listForAdmin(filter: AdminListFilter, cursor: string | undefined, limit: number, now: Date): Promise<AccountSubscription[]> {
    const at = sql`${now.toISOString()}::timestamptz`;
    const lapsed = sql`(${subscriptions.id} IS NULL OR (${subscriptions.expiresAt} IS NOT NULL AND ${subscriptions.expiresAt} <= ${at}))`;
    const conditions: (SQL | undefined)[] = [cursor ? gt(accounts.id, cursor) : undefined];
    if (filter.plan) conditions.push(sql`(CASE WHEN ${lapsed} THEN 'NONE' ELSE ${plans.code}::text END) = ${filter.plan}`);
    if (filter.status) {
      const status = sql`CASE WHEN ${subscriptions.id} IS NULL THEN 'NONE' WHEN ${lapsed} THEN (CASE WHEN ${subscriptions.cancelAtPeriodEnd} THEN 'CANCELED' ELSE 'NONE' END) ELSE ${subscriptions.status}::text END`;
      conditions.push(sql`(${status}) = ${filter.status}`);
    }
    const rows = await this.db
      .select({ accountId: accounts.id, userId: accounts.userId, subscription: subscriptions, plan: plans })
      .from(accounts)
      .leftJoin(subscriptions, eq(subscriptions.accountId, accounts.id))
      .leftJoin(plans, eq(plans.id, subscriptions.planId))
      .where(and(...conditions))
      .orderBy(asc(accounts.id))
      .limit(limit + 1);
    return rows.map(({ accountId, userId, subscription, plan }) => ({ accountId, userId, current: subscription && plan ? { subscription, plan } : null }));
  }
}
