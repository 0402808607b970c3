import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { paymentEventOf } from './stripe-events';

const CREATED = 1_796_000_000;
const event = (type: string, object: object) => ({ id: 'evt_1', object: 'event', type, created: CREATED, data: { object } }) as unknown as Stripe.Event;
const session = (fields: object = {}) => ({
  id: 'cs_1',
  object: 'checkout.session',
  mode: 'payment',
  client_reference_id: 'ord_1',
  payment_status: 'paid',
  amount_total: 1190,
  currency: 'usd',
  payment_intent: { id: 'pi_1' },
  metadata: {},
  ...fields,
});

describe('paymentEventOf: Stripe events read into PaymentEvents', () => {
  it('a session in payment mode settles or fails an order, naming it by client_reference_id, else metadata', () => {
    expect(paymentEventOf(event('checkout.session.completed', session()))).toEqual({
      type: 'order.checkout_paid',
      checkout: { sessionId: 'cs_1', orderId: 'ord_1', paid: true, amountTotalMinor: 1190, currency: 'usd', paymentIntentId: 'pi_1' },
    });
    expect(paymentEventOf(event('checkout.session.async_payment_succeeded', session({ payment_status: 'unpaid' })))).toMatchObject({
      type: 'order.checkout_paid',
      checkout: { paid: false },
    });
    expect(
      paymentEventOf(event('checkout.session.async_payment_failed', session({ client_reference_id: null, metadata: { orderId: 'ord_2' } }))),
    ).toMatchObject({ type: 'order.checkout_failed', checkout: { orderId: 'ord_2' } });
  });

  it('a session in subscription mode activates once paid; unpaid, or a failed async payment, has no effect', () => {
    const subscription = session({
      mode: 'subscription',
      subscription: 'sub_1',
      customer: 'cus_1',
      client_reference_id: 'acc_1',
      metadata: { planCode: 'PREMIUM_MONTHLY' },
    });
    expect(paymentEventOf(event('checkout.session.completed', subscription))).toEqual({
      type: 'subscription.activated',
      facts: {
        stripeSubscriptionId: 'sub_1',
        stripeCustomerId: 'cus_1',
        eventCreated: new Date(CREATED * 1000),
        accountId: 'acc_1',
        planCode: 'PREMIUM_MONTHLY',
      },
    });
    expect(paymentEventOf(event('checkout.session.completed', { ...subscription, payment_status: 'unpaid' }))).toEqual({ type: 'no_effect' });
    expect(paymentEventOf(event('checkout.session.async_payment_failed', subscription))).toEqual({ type: 'no_effect' });
  });

  it('charges, disputes and failed payments name the order by metadata, else by their payment', () => {
    expect(paymentEventOf(event('charge.refunded', { amount: 1190, amount_refunded: 500, payment_intent: 'pi_1', metadata: {} }))).toEqual({
      type: 'order.refunded',
      order: { paymentIntentId: 'pi_1' },
      amountRefundedMinor: 500,
      amountMinor: 1190,
    });
    expect(paymentEventOf(event('payment_intent.payment_failed', { id: 'pi_1', metadata: { orderId: 'ord_1' } }))).toEqual({
      type: 'order.payment_failed',
      order: { id: 'ord_1' },
      paymentIntentId: 'pi_1',
    });
    expect(paymentEventOf(event('charge.dispute.created', { id: 'dp_1', payment_intent: 'pi_1', reason: 'fraudulent', amount: 1190 }))).toEqual({
      type: 'order.dispute_opened',
      paymentIntentId: 'pi_1',
      disputeId: 'dp_1',
      reason: 'fraudulent',
      amountMinor: 1190,
    });
    expect(paymentEventOf(event('charge.dispute.closed', { id: 'dp_1', payment_intent: null, status: 'lost' }))).toEqual({
      type: 'order.dispute_closed',
      paymentIntentId: undefined,
      disputeId: 'dp_1',
      status: 'lost',
    });
  });

  it('an invoice without a subscription or a period has no effect; a type nothing acts on is not a PaymentEvent', () => {
    expect(paymentEventOf(event('invoice.paid', { id: 'in_1', lines: { data: [] } }))).toEqual({ type: 'no_effect' });
    expect(paymentEventOf(event('customer.created', { id: 'cus_1' }))).toBeUndefined();
    expect(paymentEventOf(event('payment_intent.succeeded', { id: 'pi_1' }))).toBeUndefined();
  });
});
