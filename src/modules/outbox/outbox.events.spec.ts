import { describe, expect, it } from 'vitest';
import { OUTBOX_EVENT_TYPES, OUTBOX_EVENTS, OutboxEventType, OutboxPayload } from './outbox.events';
import type { OutboxRepository } from './outbox.repository';

type Appended = Parameters<OutboxRepository['append']>[1];

const ids = { orderId: 'ord_1', userId: 'usr_1', licenseId: 'lic_1', productId: 'prd_1' };
const stripeSubscription = { subscriptionId: 'sub_1', accountId: 'acc_1', userId: ids.userId, stripeSubscriptionId: 'sub_stripe_1' };

/** One sample per catalog event; the mapped type makes a new event without a sample fail to compile. */
const quotaAlert = {
  userId: 'usr_1',
  accountId: 'acc_1',
  planCode: 'TRIAL',
  plan: 'TRIAL',
  apiVersion: 'v1',
  endpoint: '*',
  limit: 5,
  used: 4,
  windowStart: '2026-02-02T00:00:00.000Z',
  resetsAt: '2026-02-03T00:00:00.000Z',
};

const SAMPLES: { [T in OutboxEventType]: OutboxPayload<T> } = {
  'checkout.session.completed': {
    orderId: ids.orderId,
    userId: ids.userId,
    sessionId: 'cs_1',
    amountTotal: 24900,
    currency: 'EUR',
    licenseIds: ['lic_1', 'lic_2'],
  },
  'charge.refunded': { orderId: ids.orderId, userId: ids.userId, amountRefunded: 100, full: false },
  'charge.dispute.created': { orderId: ids.orderId, userId: ids.userId, disputeId: 'dp_1', reason: 'fraudulent', amount: 24900 },
  'charge.dispute.closed': { orderId: ids.orderId, userId: ids.userId, disputeId: 'dp_1', status: 'lost', lost: true },
  'payment_intent.payment_failed': { orderId: ids.orderId, userId: ids.userId, paymentIntentId: 'pi_1' },
  'license.validated': { licenseId: ids.licenseId, productId: ids.productId, userId: ids.userId, fingerprint: null, validatedAt: '2026-01-02T03:04:05.000Z' },
  'license.activated': { licenseId: ids.licenseId, productId: ids.productId, userId: ids.userId, activationId: 'act_1', fingerprint: 'machine-1' },
  'subscription.changed': {
    subscriptionId: 'sub_1',
    accountId: 'acc_1',
    userId: ids.userId,
    source: 'USER',
    previousPlanCode: 'NONE',
    planCode: 'TRIAL',
    previousPlan: 'NONE',
    plan: 'TRIAL',
    planId: 'pln_1',
    status: 'TRIALING',
    currentPeriodStart: '2026-01-02T03:04:05.000Z',
    currentPeriodEnd: '2026-02-02T03:04:05.000Z',
    changedAt: '2026-01-02T03:04:05.000Z',
  },
  'invoice.paid': { ...stripeSubscription, invoiceId: 'in_1', amountPaid: 2900, currency: 'USD', currentPeriodEnd: '2026-02-02T03:04:05.000Z' },
  'customer.subscription.updated': {
    ...stripeSubscription,
    planCode: 'PREMIUM_MONTHLY',
    plan: 'PREMIUM_MONTHLY',
    status: 'PAST_DUE',
    cancelAtPeriodEnd: false,
    currentPeriodEnd: '2026-02-02T03:04:05.000Z',
  },
  'customer.subscription.deleted': { ...stripeSubscription, endedAt: '2026-02-02T03:04:05.000Z' },
  'license.deactivated': { licenseId: 'lic_1', productId: 'prd_1', userId: 'usr_1', fingerprint: 'machine-1' },
  'license.suspended': { licenseId: 'lic_1', productId: 'prd_1', userId: 'usr_1', reason: 'DISPUTE' },
  'license.revoked': { licenseId: 'lic_1', productId: 'prd_1', userId: 'usr_1', reason: 'REFUND' },
  'subscription.quota.warning': quotaAlert,
  'subscription.quota.exceeded': { ...quotaAlert, used: 5 },
};

describe('outbox event catalog', () => {
  it.each(OUTBOX_EVENT_TYPES)('%s: its schema accepts a sample and refuses an empty payload', (type) => {
    expect(OUTBOX_EVENTS[type].parse(SAMPLES[type])).toEqual(SAMPLES[type]);
    expect(OUTBOX_EVENTS[type].safeParse({}).success).toBe(false);
  });

  it('lists the published event types, each with a description for its JSON Schema', () => {
    expect(OUTBOX_EVENT_TYPES).toEqual([
      'checkout.session.completed',
      'charge.refunded',
      'charge.dispute.created',
      'charge.dispute.closed',
      'payment_intent.payment_failed',
      'license.validated',
      'license.activated',
      'license.deactivated',
      'license.suspended',
      'license.revoked',
      'subscription.changed',
      'invoice.paid',
      'customer.subscription.updated',
      'customer.subscription.deleted',
      'subscription.quota.warning',
      'subscription.quota.exceeded',
    ]);
    for (const type of OUTBOX_EVENT_TYPES) expect(OUTBOX_EVENTS[type].meta()?.description).toEqual(expect.any(String));
  });

  it('types append: a payload that does not match its event type does not compile', () => {
    const events: Appended[] = [{ type: 'license.activated', payload: SAMPLES['license.activated'] }];
    const { activationId: _dropped, ...withoutActivation } = SAMPLES['license.activated'];
    // @ts-expect-error license.activated needs its activationId
    events.push({ type: 'license.activated', payload: withoutActivation });
    // @ts-expect-error a refund's payload is not an activation's
    events.push({ type: 'charge.refunded', payload: SAMPLES['license.activated'] });
    // @ts-expect-error amounts are numbers of minor units, not strings
    events.push({ type: 'charge.refunded', payload: { ...SAMPLES['charge.refunded'], amountRefunded: '1.00' } });
    // @ts-expect-error only catalog types enter the outbox
    events.push({ type: 'license.deleted', payload: {} });
    expect(events).toHaveLength(5);
  });
});
