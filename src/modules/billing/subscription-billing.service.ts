import { Injectable } from '@nestjs/common';
import { MailService } from '../../common/mail/mail.service';
import { AppConfig, InjectConfig } from '../../config/config';
import type { Transaction } from '../../db/database';
import type { Activation, BillingResult, InvoiceFacts, SubscriptionFacts } from '../subscriptions/subscription-billing.service';
import { SubscriptionBillingService } from '../subscriptions/subscription-billing.service';
import { UsersService } from '../users/users.service';
import type { EventOutcome } from './payment-events';
import { SubscriptionCheckoutsRepository } from './subscription-checkouts.repository';

/**
 * Subscription payment events as commands to the subscriptions module, which orders them and
 * applies them to the account's subscription; a failed payment also queues a mail to its owner.
 */
@Injectable()
export class SubscriptionBilling {
  constructor(
    private readonly subscriptions: SubscriptionBillingService,
    private readonly checkouts: SubscriptionCheckoutsRepository,
    private readonly users: UsersService,
    private readonly mail: MailService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async activated(tx: Transaction, facts: Activation): Promise<EventOutcome> {
    const outcome = await this.told(tx, this.subscriptions.activated(tx, facts));
    // Paid: a later checkout (once this subscription has ended) opens a session of its own.
    if (outcome === 'APPLIED' && facts.accountId) await this.checkouts.clear(tx, facts.accountId);
    return outcome;
  }

  renewed(tx: Transaction, facts: InvoiceFacts): Promise<EventOutcome> {
    return this.told(tx, this.subscriptions.renewed(tx, facts));
  }

  pastDue(tx: Transaction, facts: InvoiceFacts): Promise<EventOutcome> {
    return this.told(tx, this.subscriptions.pastDue(tx, facts));
  }

  updated(tx: Transaction, facts: SubscriptionFacts): Promise<EventOutcome> {
    return this.told(tx, this.subscriptions.updated(tx, facts));
  }

  cancelled(tx: Transaction, facts: SubscriptionFacts): Promise<EventOutcome> {
    return this.told(tx, this.subscriptions.cancelled(tx, facts));
  }

  /** The outcome, once the owner of a subscription whose payment failed has a mail queued. */
  private async told(tx: Transaction, applying: Promise<BillingResult>): Promise<EventOutcome> {
    const { outcome, paymentFailed } = await applying;
    if (!paymentFailed) return outcome;
    const recipient = await this.users.recipientIn(tx, paymentFailed.userId);
    if (recipient) {
      const plan = this.subscriptions.planName(paymentFailed.plan, recipient.user.language);
      const graceDays = String(this.config.subscriptions.graceDays);
      await this.mail.queue(tx, recipient.user, 'subscriptionPaymentFailed', { name: recipient.name, plan, graceDays });
    }
    return outcome;
  }
}
