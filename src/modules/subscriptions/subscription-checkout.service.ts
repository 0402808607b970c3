import { Inject, Injectable } from '@nestjs/common';
import Stripe from 'stripe';
import { Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { Language } from '../../common/i18n/language';
import { STRIPE } from '../../common/stripe/stripe.module';
import { assertAllowedLink } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { TransactionRunner } from '../../db/transaction';
import { AccountsRepository } from '../accounts/accounts.repository';
import { UsersRepository } from '../users/users.repository';
import { PlansRepository } from './plans.repository';
import { SubscriptionChangesService } from './subscription-changes.service';
import { SubscriptionsRepository } from './subscriptions.repository';
import { SubscriptionCheckoutCreateDto } from './subscriptions.schemas';
import { SubscriptionsService } from './subscriptions.service';
import { stripeFailure } from '../../common/stripe/stripe-failure';
import { hasLiveStripeSubscription } from '../../db/schema/subscriptions';

const NOT_SOLD = new Set(['NONE', 'TRIAL', 'CUSTOM']);

/** Buying a plan through Stripe Checkout, and cancelling at period end. */
@Injectable()
export class SubscriptionCheckoutService {
  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly plans: PlansRepository,
    private readonly accounts: AccountsRepository,
    private readonly users: UsersRepository,
    private readonly changes: SubscriptionChangesService,
    private readonly views: SubscriptionsService,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
    @Inject(STRIPE) private readonly stripe: Stripe,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * A Checkout Session in subscription mode for the plan's Stripe price, for the account's one
   * Stripe customer; checkout.session.completed then activates the plan.
   */
  async checkout(principal: Principal, dto: SubscriptionCheckoutCreateDto) {
    assertAllowedLink('successUrl', dto.successUrl, this.config.allowedLinkOrigins);
    assertAllowedLink('cancelUrl', dto.cancelUrl, this.config.allowedLinkOrigins);
    if (NOT_SOLD.has(dto.planCode)) throw new DomainError('PLAN_NOT_PURCHASABLE');
    const plan = await this.plans.findPreset(dto.planCode as Exclude<typeof dto.planCode, 'CUSTOM'>);
    if (!plan?.stripePriceId) throw new DomainError('PLAN_NOT_ON_STRIPE');
    if (!this.config.stripe.secretKey) throw new DomainError('SERVICE_UNAVAILABLE', { params: { retryAfter: 3600 } });
    const account = await this.activeAccount(principal);
    const user = await this.users.findById(principal.userId);
    if (!user) throw new DomainError('UNAUTHORIZED');

    const customer = await this.transactions.run(async (tx) => {
      // The row lock makes two concurrent checkouts of one account share one customer.
      const { current } = await this.changes.lock(tx, { accountId: account.id, userId: user.id }, this.clock.now());
      const row = current.subscription;
      if (hasLiveStripeSubscription(row)) throw new DomainError('STRIPE_SUBSCRIPTION_EXISTS');
      if (row.stripeCustomerId) return row.stripeCustomerId;
      const created = await this.callStripe(() =>
        this.stripe.customers.create(
          { email: user.email, metadata: { accountId: account.id, userId: user.id } },
          { idempotencyKey: `gatehouse-customer-${account.id}` },
        ),
      );
      await this.subscriptions.update(tx, row.id, { stripeCustomerId: created.id });
      return created.id;
    });
    const metadata = { userId: user.id, accountId: account.id, planCode: plan.code };
    const session = await this.callStripe(() =>
      this.stripe.checkout.sessions.create({
        mode: 'subscription',
        customer,
        line_items: [{ price: plan.stripePriceId!, quantity: 1 }],
        client_reference_id: account.id,
        metadata,
        // Copied onto the subscription, so its own events name the account too.
        subscription_data: { metadata },
        success_url: dto.successUrl,
        cancel_url: dto.cancelUrl,
      }),
    );
    return { id: session.id, url: session.url ?? '' };
  }

  /**
   * cancelAtPeriodEnd: a Stripe subscription is told through Stripe's API (its deleted event ends
   * it); any other keeps its plan until its period ends, then reads as CANCELED.
   */
  async cancel(principal: Principal, lang: Language) {
    const account = await this.activeAccount(principal);
    await this.transactions.run(async (tx) => {
      const { current } = await this.changes.lock(tx, { accountId: account.id, userId: account.userId }, this.clock.now());
      const row = current.subscription;
      // A Stripe subscription is cancelled whatever the plan reads now: after a lapsed grace period
      // the row reads NONE while Stripe keeps retrying the payment.
      const billedByStripe = hasLiveStripeSubscription(row);
      if ((current.plan.code === 'NONE' && !billedByStripe) || row.cancelAtPeriodEnd) return;
      if (billedByStripe) {
        if (!this.config.stripe.secretKey) throw new DomainError('SERVICE_UNAVAILABLE', { params: { retryAfter: 3600 } });
        await this.callStripe(() => this.stripe.subscriptions.update(row.stripeSubscriptionId!, { cancel_at_period_end: true }));
      }
      // No renewal is coming, so no grace beyond the period either.
      const ends = [row.currentPeriodEnd, row.expiresAt].filter((date): date is Date => date !== null);
      const expiresAt = ends.length > 0 ? new Date(Math.min(...ends.map((date) => date.getTime()))) : null;
      await this.subscriptions.update(tx, row.id, { cancelAtPeriodEnd: true, expiresAt });
    });
    return this.views.me(principal, lang);
  }

  private async activeAccount(principal: Principal) {
    const account = await this.accounts.findByUser(principal.userId);
    if (!account || account.status !== 'ACTIVE') throw new DomainError('ACCOUNT_NOT_ACTIVE');
    return account;
  }

  private async callStripe<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw stripeFailure(error);
    }
  }
}
