import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { iso, isoOrNull } from '../../common/iso';
import type { Transaction } from '../../db/database';
import { OutboxService } from '../outbox/outbox.service';
import { periodEnd } from './periods';
import type { PlanRow } from './plans.repository';
import { isLapsed, lapsedState, SubscriptionTermsService, termsOf } from './subscription-terms.service';
import { durationOf } from './subscriptions.mapper';
import { CurrentSubscription, SubscriptionChanges, SubscriptionsRepository, SubscriptionStatus } from './subscriptions.repository';

export type ChangeSource = 'ADMIN' | 'USER' | 'STRIPE' | 'EXPIRY';

/** Why, by whom and when: every change carries these into its history row and its event. */
export interface ChangeContext {
  source: ChangeSource;
  /** The user who made it; null for EXPIRY and STRIPE. */
  actorUserId: string | null;
  at: Date;
}

export interface PlanChange extends ChangeContext {
  /** Default: TRIALING on TRIAL, CANCELED on NONE, otherwise ACTIVE. */
  status?: SubscriptionStatus;
  /** Default: `at`. */
  periodStart?: Date;
  /** Default: the plan's duration after periodStart (null without one). */
  periodEnd?: Date | null;
  /** Default: periodEnd, as nothing renews the subscription; a renewing Stripe one sets its own. */
  expiresAt?: Date | null;
  /** Columns the caller sets in the same update (a Stripe handler's ids, cancelAtPeriodEnd). */
  also?: Pick<SubscriptionChanges, 'stripeCustomerId' | 'stripeSubscriptionId' | 'cancelAtPeriodEnd' | 'stripeStatus' | 'stripeStateAt' | 'stripeEventAt'>;
}

/**
 * The one place a subscription changes, for every source: update-subscription, the expiry sweep,
 * and Stripe's webhooks, each calling in its own transaction. Each change writes its history row
 * and its `subscription.changed` outbox row there, exactly one of each.
 */
@Injectable()
export class SubscriptionChangesService {
  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly terms: SubscriptionTermsService,
    private readonly outbox: OutboxService,
    private readonly events: DomainEvents,
  ) {}

  /**
   * The account's subscription, locked for the rest of `tx` (a NONE row is made for an account
   * without one). A term that ended is recorded as expired first, so a change that follows it
   * starts from NONE and is a change of its own.
   */
  async lock(tx: Transaction, owner: { accountId: string; userId: string }, at: Date): Promise<{ current: CurrentSubscription; nonePlan: PlanRow }> {
    const nonePlan = await this.nonePlan(tx);
    const locked = await this.subscriptions.lockForAccount(tx, {
      ...owner,
      planId: nonePlan.id,
      status: 'NONE',
      currentPeriodStart: at,
      terms: termsOf(nonePlan),
    });
    // Every change to a subscription locks it here first: metering's cache of this owner is dropped
    // now, and anything read again before the change commits is trusted for ENTITLEMENT_CACHE_TTL_MS at most.
    this.events.emit('subscription.changing', { userId: owner.userId });
    const current = isLapsed(locked.subscription, at) && locked.plan.id !== nonePlan.id ? await this.expire(tx, locked, nonePlan, at) : locked;
    return { current, nonePlan };
  }

  /** Puts a locked subscription on `plan`, starting a new period with the plan's terms as they are now. */
  async applyPlanChange(tx: Transaction, locked: CurrentSubscription, plan: PlanRow, change: PlanChange): Promise<CurrentSubscription> {
    const start = change.periodStart ?? change.at;
    const duration = durationOf(plan);
    const end = change.periodEnd !== undefined ? change.periodEnd : duration ? periodEnd(start, duration) : null;
    const subscription = await this.subscriptions.update(tx, locked.subscription.id, {
      planId: plan.id,
      status: change.status ?? defaultStatus(plan),
      currentPeriodStart: start,
      currentPeriodEnd: end,
      expiresAt: change.expiresAt !== undefined ? change.expiresAt : end,
      cancelAtPeriodEnd: false,
      terms: termsOf(plan),
      ...change.also,
    });
    const after = { subscription, plan };
    await this.recordHistory(tx, locked, after, change);
    return after;
  }

  /** Ends a lapsed subscription's term: NONE from when it ended. */
  async expire(tx: Transaction, locked: CurrentSubscription, nonePlan: PlanRow, at: Date): Promise<CurrentSubscription> {
    const subscription = await this.subscriptions.update(tx, locked.subscription.id, lapsedState(locked.subscription, nonePlan));
    const after = { subscription, plan: nonePlan };
    await this.recordHistory(tx, locked, after, { source: 'EXPIRY', actorUserId: null, at });
    return after;
  }

  /** The history row and the outbox row of one change, in the caller's transaction. */
  async recordHistory(tx: Transaction, before: CurrentSubscription, after: CurrentSubscription, context: ChangeContext): Promise<void> {
    const { subscription, plan } = after;
    const recorded = await this.subscriptions.insertChange(tx, {
      subscriptionId: subscription.id,
      accountId: subscription.accountId,
      userId: subscription.userId,
      source: context.source,
      actorUserId: context.actorUserId,
      previousPlanId: before.plan.id,
      previousPlanCode: before.plan.code,
      planId: plan.id,
      planCode: plan.code,
      status: subscription.status,
      periodStart: subscription.currentPeriodStart,
      periodEnd: subscription.currentPeriodEnd,
      createdAt: context.at,
    });
    if (recorded.outcome === 'second-trial') throw new DomainError('TRIAL_ALREADY_USED');
    await this.outbox.append(tx, {
      type: 'subscription.changed',
      payload: {
        subscriptionId: subscription.id,
        accountId: subscription.accountId,
        userId: subscription.userId,
        source: context.source,
        previousPlanCode: before.plan.code,
        planCode: plan.code,
        previousPlan: before.plan.code,
        plan: plan.code,
        planId: plan.id,
        status: subscription.status,
        currentPeriodStart: iso(subscription.currentPeriodStart),
        currentPeriodEnd: isoOrNull(subscription.currentPeriodEnd),
        changedAt: iso(context.at),
      },
    });
  }

  nonePlan(tx?: Transaction): Promise<PlanRow> {
    return this.terms.nonePlan(tx);
  }
}

function defaultStatus(plan: PlanRow): SubscriptionStatus {
  if (plan.code === 'TRIAL') return 'TRIALING';
  if (plan.code === 'NONE') return 'CANCELED';
  return 'ACTIVE';
}
