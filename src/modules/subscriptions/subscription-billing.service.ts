import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { iso, isoOrNull } from '../../common/iso';
import { AppConfig, InjectConfig } from '../../config/config';
import type { Transaction } from '../../db/database';
import { PRESET_PLAN_CODES } from '../../db/schema';
import { OutboxService } from '../outbox/outbox.service';
import { periodEnd } from './periods';
import { PlanRow, PlansRepository } from './plans.repository';
import { PlanChange, SubscriptionChangesService } from './subscription-changes.service';
import { durationOf, planName } from './subscriptions.mapper';
import type { Language } from '../../common/i18n/language';
import { CurrentSubscription, SubscriptionRow, SubscriptionsRepository, SubscriptionStatus } from './subscriptions.repository';
import { ENDED_STRIPE_STATUSES } from './subscription-terms.service';

/** What a billing event did; stored as the outcome of its `stripe_events` row. */
export type BillingOutcome = 'APPLIED' | 'IGNORED' | 'IGNORED_STALE' | 'IGNORED_DUPLICATE' | 'CUSTOMER_MISMATCH';

export interface BillingResult {
  outcome: BillingOutcome;
  /** A payment failed: the owner is told, after the transaction commits. */
  paymentFailed?: { userId: string; plan: PlanRow };
}

/** Which Stripe subscription an event is about, and when Stripe made the event (the order's tiebreak). */
export interface StripeRef {
  stripeSubscriptionId: string;
  stripeCustomerId: string | null;
  eventCreated: Date;
}

export interface Activation extends StripeRef {
  accountId: string | null;
  planCode: string | undefined;
}

export interface InvoiceFacts extends StripeRef {
  invoiceId: string;
  priceId: string | null;
  periodStart: Date;
  periodEnd: Date;
  amountPaid: number;
  currency: string;
}

export interface SubscriptionFacts extends StripeRef {
  /** Stripe's own status: active, trialing, past_due, unpaid, canceled, incomplete, … */
  status: string;
  priceId: string | null;
  cancelAtPeriodEnd: boolean;
  periodStart: Date | null;
  periodEnd: Date | null;
}

const ENDED = ENDED_STRIPE_STATUSES;
const STATUS: Record<string, SubscriptionStatus> = { active: 'ACTIVE', trialing: 'TRIALING', past_due: 'PAST_DUE', unpaid: 'PAST_DUE' };
const DAY_MS = 86_400_000;
const result = (outcome: BillingOutcome): BillingResult => ({ outcome });

/**
 * Stripe subscription billing, normalised: the webhooks module turns Stripe's events into these
 * few calls, each inside the event's transaction with the account's subscription locked.
 *
 * Stripe delivers in any order and more than once. A Stripe subscription that ended stays ended
 * (`canceled` is final in Stripe too); any other state is ordered by the Stripe object's own period
 * end, then the event's `created`, and an older one is not applied; a paid invoice counts once.
 */
@Injectable()
export class SubscriptionBillingService {
  private readonly logger = new Logger('SubscriptionBilling');

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly plans: PlansRepository,
    private readonly changes: SubscriptionChangesService,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The plan's name in the owner's language, for the mail about a failed payment. */
  planName(plan: PlanRow, lang: Language): string {
    return planName(plan, lang);
  }

  /** checkout.session.completed in subscription mode: ACTIVE on the plan bought, for the account and customer we made the session for. */
  async activated(tx: Transaction, event: Activation): Promise<BillingResult> {
    const owner = event.accountId ? await this.subscriptions.findAccount(event.accountId) : undefined;
    if (!owner) return result('IGNORED');
    const at = this.clock.now();
    const { current } = await this.changes.lock(tx, owner, at);
    const row = current.subscription;
    if (!row.stripeCustomerId || row.stripeCustomerId !== event.stripeCustomerId) {
      this.logger.warn(
        `Stripe subscription ${event.stripeSubscriptionId} refused (CUSTOMER_MISMATCH) for account ${owner.accountId}: ` +
          `customer ${event.stripeCustomerId}, the account's is ${row.stripeCustomerId}`,
      );
      return result('CUSTOMER_MISMATCH');
    }
    // Its own invoice or update came first and applied it, or it has ended since.
    if (row.stripeSubscriptionId === event.stripeSubscriptionId) return result('IGNORED_STALE');
    if (row.stripeSubscriptionId && !ENDED.has(row.stripeStatus ?? '')) {
      this.logger.warn(`Stripe subscription ${event.stripeSubscriptionId} ignored: account ${owner.accountId} already has ${row.stripeSubscriptionId}`);
      return result('IGNORED');
    }
    const code = PRESET_PLAN_CODES.find((preset) => preset === event.planCode);
    const plan = code ? await this.plans.findPresetIn(tx, code) : undefined;
    if (!plan?.stripePriceId) return result('IGNORED');
    const duration = durationOf(plan);
    // The plan's own period until Stripe's first invoice or update names Stripe's.
    const end = duration ? periodEnd(at, duration) : null;
    await this.changes.applyPlanChange(tx, current, plan, {
      ...this.context(at),
      status: 'ACTIVE',
      periodEnd: end,
      expiresAt: this.withGrace(end),
      also: { stripeSubscriptionId: event.stripeSubscriptionId, stripeStatus: 'active', stripeStateAt: null, stripeEventAt: event.eventCreated },
    });
    return result('APPLIED');
  }

  /** invoice.paid: the period runs to the invoice line's end; a PAST_DUE subscription is ACTIVE again. */
  async renewed(tx: Transaction, invoice: InvoiceFacts): Promise<BillingResult> {
    const current = await this.locate(tx, invoice);
    if (!current) return result('IGNORED');
    const row = current.subscription;
    if (this.endedAlready(row, invoice)) return result('IGNORED_STALE');
    const plan = (invoice.priceId ? await this.plans.findPresetByStripePriceId(tx, invoice.priceId) : undefined) ?? current.plan;
    if (plan.code === 'NONE') return result('IGNORED');
    const recorded = await this.subscriptions.insertInvoiceOnce(tx, {
      id: invoice.invoiceId,
      subscriptionId: row.id,
      periodEnd: invoice.periodEnd,
      amountPaidMinor: invoice.amountPaid,
      currency: invoice.currency.toUpperCase(),
    });
    if (recorded.outcome === 'duplicate') return result('IGNORED_DUPLICATE');
    // An older invoice paid late is recorded and announced, but moves nothing back.
    if (this.isNewer(row, invoice.periodEnd, invoice.eventCreated)) {
      await this.changes.applyPlanChange(tx, current, plan, {
        ...this.context(this.clock.now()),
        status: 'ACTIVE',
        periodStart: invoice.periodStart,
        periodEnd: invoice.periodEnd,
        expiresAt: row.cancelAtPeriodEnd ? invoice.periodEnd : this.withGrace(invoice.periodEnd),
        also: this.stripeState(row, invoice, 'active', invoice.periodEnd),
      });
    }
    await this.outbox.append(tx, {
      type: 'invoice.paid',
      payload: {
        ...this.ids(row, invoice),
        invoiceId: invoice.invoiceId,
        amountPaid: invoice.amountPaid,
        currency: invoice.currency.toUpperCase(),
        currentPeriodEnd: iso(invoice.periodEnd),
      },
    });
    return result('APPLIED');
  }

  /** invoice.payment_failed: PAST_DUE, keeping access for the grace period from now; the owner is mailed once. */
  async pastDue(tx: Transaction, invoice: InvoiceFacts): Promise<BillingResult> {
    const current = await this.locate(tx, invoice);
    if (!current) return result('IGNORED');
    const row = current.subscription;
    if (this.endedAlready(row, invoice) || !this.isNewer(row, invoice.periodEnd, invoice.eventCreated)) return result('IGNORED_STALE');
    if (current.plan.code === 'NONE') return result('IGNORED');
    const state = this.stripeState(row, invoice, 'past_due', invoice.periodEnd);
    if (row.status === 'PAST_DUE') {
      // Another failed retry: the grace period runs from the first failure.
      await this.subscriptions.update(tx, row.id, state);
      return result('APPLIED');
    }
    const at = this.clock.now();
    await this.changes.applyPlanChange(tx, current, current.plan, {
      ...this.keepPeriod(row, at),
      status: 'PAST_DUE',
      expiresAt: new Date(at.getTime() + this.config.subscriptions.graceDays * DAY_MS),
      also: state,
    });
    return { outcome: 'APPLIED', paymentFailed: { userId: row.userId, plan: current.plan } };
  }

  /** customer.subscription.updated: Stripe's status, plan (by price), cancel at period end and period. */
  async updated(tx: Transaction, facts: SubscriptionFacts): Promise<BillingResult> {
    if (ENDED.has(facts.status)) return this.cancelled(tx, facts);
    const current = await this.locate(tx, facts);
    if (!current) return result('IGNORED');
    const row = current.subscription;
    if (this.endedAlready(row, facts) || !this.isNewer(row, facts.periodEnd, facts.eventCreated)) return result('IGNORED_STALE');
    const status = STATUS[facts.status];
    const plan = (facts.priceId ? await this.plans.findPresetByStripePriceId(tx, facts.priceId) : undefined) ?? current.plan;
    // incomplete or paused: nothing paid yet, nothing to grant.
    if (!status || plan.code === 'NONE') return result('IGNORED');
    const at = this.clock.now();
    const periodEnd = facts.periodEnd ?? row.currentPeriodEnd;
    const expiresAt =
      status === 'PAST_DUE'
        ? row.status === 'PAST_DUE'
          ? row.expiresAt
          : new Date(at.getTime() + this.config.subscriptions.graceDays * DAY_MS)
        : facts.cancelAtPeriodEnd
          ? periodEnd
          : this.withGrace(periodEnd);
    const also = { ...this.stripeState(row, facts, facts.status, facts.periodEnd), cancelAtPeriodEnd: facts.cancelAtPeriodEnd };
    const periodStart = facts.periodStart ?? row.currentPeriodStart;
    const changed = plan.id !== current.plan.id || status !== row.status || periodStart.getTime() !== row.currentPeriodStart.getTime();
    const after = changed
      ? (await this.changes.applyPlanChange(tx, current, plan, { ...this.context(at), status, periodStart, periodEnd, expiresAt, also })).subscription
      : await this.subscriptions.update(tx, row.id, { ...also, currentPeriodEnd: periodEnd, expiresAt });
    await this.outbox.append(tx, {
      type: 'customer.subscription.updated',
      payload: {
        ...this.ids(row, facts),
        planCode: plan.code,
        plan: plan.code,
        status: after.status,
        cancelAtPeriodEnd: after.cancelAtPeriodEnd,
        currentPeriodEnd: isoOrNull(after.currentPeriodEnd),
      },
    });
    return result('APPLIED');
  }

  /** customer.subscription.deleted (or updated to canceled): NONE, for good; later events about it change nothing. */
  async cancelled(tx: Transaction, facts: SubscriptionFacts): Promise<BillingResult> {
    const current = await this.locate(tx, facts);
    if (!current) return result('IGNORED');
    const row = current.subscription;
    if (this.endedAlready(row, facts)) return result('IGNORED_STALE');
    const at = this.clock.now();
    const state = { ...this.stripeState(row, facts, 'canceled', facts.periodEnd), cancelAtPeriodEnd: false };
    if (current.plan.code === 'NONE') await this.subscriptions.update(tx, row.id, state);
    else await this.changes.applyPlanChange(tx, current, await this.changes.nonePlan(tx), { ...this.context(at), also: state });
    await this.outbox.append(tx, { type: 'customer.subscription.deleted', payload: { ...this.ids(row, facts), endedAt: iso(at) } });
    return result('APPLIED');
  }

  /**
   * The account's subscription that a Stripe object is about, locked; a subscription not yet tied
   * to one is adopted through the account's Stripe customer (the caller stores its id).
   */
  private async locate(tx: Transaction, ref: StripeRef): Promise<CurrentSubscription | undefined> {
    const owner = await this.subscriptions.findOwnerByStripe(tx, ref);
    if (!owner) return undefined;
    const { current } = await this.changes.lock(tx, owner, this.clock.now());
    const row = current.subscription;
    if (row.stripeSubscriptionId === ref.stripeSubscriptionId) return current;
    // Another subscription of the account's customer takes the row over once the one it holds has
    // ended (a re-subscribe whose first events beat its checkout.session.completed); a stale event
    // of an older one changes nothing, as isNewer refuses it.
    const sameCustomer = row.stripeCustomerId !== null && row.stripeCustomerId === ref.stripeCustomerId;
    return sameCustomer && (row.stripeSubscriptionId === null || ENDED.has(row.stripeStatus ?? '')) ? current : undefined;
  }

  /** The Stripe subscription this event is about has ended here already: nothing revives it. */
  private endedAlready(row: SubscriptionRow, ref: StripeRef): boolean {
    return row.stripeSubscriptionId === ref.stripeSubscriptionId && ENDED.has(row.stripeStatus ?? '');
  }

  /** Whether (Stripe's period end, event created) comes after the last Stripe state applied. */
  private isNewer(row: SubscriptionRow, stateAt: Date | null, eventAt: Date): boolean {
    const stored = [row.stripeStateAt?.getTime() ?? -Infinity, row.stripeEventAt?.getTime() ?? -Infinity] as const;
    const incoming = [stateAt?.getTime() ?? stored[0], eventAt.getTime()] as const;
    return incoming[0] !== stored[0] ? incoming[0] > stored[0] : incoming[1] > stored[1];
  }

  /** The Stripe columns an applied event leaves: its subscription id, status and order. */
  private stripeState(row: SubscriptionRow, ref: StripeRef, stripeStatus: string, stateAt: Date | null) {
    return {
      stripeSubscriptionId: ref.stripeSubscriptionId,
      stripeStatus,
      stripeStateAt: stateAt ?? row.stripeStateAt,
      stripeEventAt: ref.eventCreated,
      cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    };
  }

  private keepPeriod(row: SubscriptionRow, at: Date): Pick<PlanChange, 'source' | 'actorUserId' | 'at' | 'periodStart' | 'periodEnd'> {
    return { ...this.context(at), periodStart: row.currentPeriodStart, periodEnd: row.currentPeriodEnd };
  }

  private context(at: Date) {
    return { source: 'STRIPE' as const, actorUserId: null, at };
  }

  /** A renewing subscription stays on its plan a few days past its period, as Stripe's renewal events can be late. */
  private withGrace(periodEnd: Date | null): Date | null {
    return periodEnd && new Date(periodEnd.getTime() + this.config.subscriptions.graceDays * DAY_MS);
  }

  private ids(row: SubscriptionRow, ref: StripeRef) {
    return { subscriptionId: row.id, accountId: row.accountId, userId: row.userId, stripeSubscriptionId: ref.stripeSubscriptionId };
  }
}
