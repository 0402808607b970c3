import { Inject, Injectable } from '@nestjs/common';
import type { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { BillingEventsRepository } from './billing-events.repository';
import { OrderFulfilment } from './order-fulfilment.service';
import { assertUnreachable, EventOutcome, PaymentEvent } from './payment-events';
import { PAYMENT_PROVIDER, PaymentProvider } from './payment-provider';
import { SubscriptionBilling } from './subscription-billing.service';

/**
 * Payment events received from the provider, turned into commands: orders to OrderFulfilment,
 * subscriptions to SubscriptionBilling.
 */
@Injectable()
export class BillingEventsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly events: BillingEventsRepository,
    private readonly fulfilment: OrderFulfilment,
    private readonly subscriptions: SubscriptionBilling,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
  ) {}

  /**
   * Verifies, stores once and applies an event in one transaction, with the mails it queues.
   * A redelivery, concurrent or later, finds the stored row and changes nothing; a failure rolls
   * both back, so the provider retries. The row keeps what applying it did, refusals included.
   */
  async receive(rawBody: string | undefined, signature: string | undefined): Promise<{ received: true }> {
    const received = this.provider.parseEvent(rawBody, signature);
    const { id, providerType: type, event } = received;
    if (event === undefined) {
      // Most of what the provider sends changes nothing here: one statement, no transaction.
      await this.events.insertIgnored({ id, type, payload: received.payload });
      return { received: true };
    }
    await this.transactions.run(async (tx) => {
      if ((await this.events.insertOnce(tx, { id, type, payload: received.body })).outcome === 'duplicate') return;
      await this.events.setOutcome(tx, id, await this.apply(tx, id, event));
    });
    return { received: true };
  }

  /** Applies one event in its transaction: the outcome stored on its row. */
  apply(tx: Transaction, eventId: string, event: PaymentEvent): Promise<EventOutcome> {
    switch (event.type) {
      case 'order.checkout_paid':
        return this.fulfilment.checkoutPaid(tx, eventId, event.checkout);
      case 'order.checkout_failed':
        return this.fulfilment.checkoutFailed(tx, eventId, event.checkout);
      case 'order.payment_failed':
        return this.fulfilment.paymentFailed(tx, event.order, event.paymentIntentId);
      case 'order.refunded':
        return this.fulfilment.refunded(tx, event.order, event.amountRefundedMinor, event.amountMinor);
      case 'order.dispute_opened':
        return this.fulfilment.disputeOpened(tx, event);
      case 'order.dispute_closed':
        return this.fulfilment.disputeClosed(tx, event);
      case 'subscription.activated':
        return this.subscriptions.activated(tx, event.facts);
      case 'subscription.renewed':
        return this.subscriptions.renewed(tx, event.facts);
      case 'subscription.past_due':
        return this.subscriptions.pastDue(tx, event.facts);
      case 'subscription.updated':
        return this.subscriptions.updated(tx, event.facts);
      case 'subscription.cancelled':
        return this.subscriptions.cancelled(tx, event.facts);
      case 'no_effect':
        return Promise.resolve('IGNORED');
      default:
        return assertUnreachable(event);
    }
  }
}
