import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Principal } from '../../common/auth/principal';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { Language } from '../../common/i18n/language';
import { StripeDeadline, StripeDeadlines } from '../../common/stripe/stripe-deadline';
import { STRIPE } from '../../common/stripe/stripe.module';
import { StripeApi } from '../../common/stripe/stripe-sdk';
import { assertAllowedLink } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { hasLiveStripeSubscription } from '../../db/schema/subscriptions';
import { TransactionRunner } from '../../db/transaction';
import { AccountsRepository } from '../accounts/accounts.repository';
import { UserRow, UsersRepository } from '../users/users.repository';
import { PlanRow, PlansRepository } from './plans.repository';
import { SubscriptionChangesService } from './subscription-changes.service';
import { CheckoutClaim, CheckoutRequest, SubscriptionCheckoutsRepository } from './subscription-checkouts.repository';
import { SubscriptionsRepository } from './subscriptions.repository';
import { SubscriptionCheckoutCreateDto } from './subscriptions.schemas';
import { SubscriptionsService } from './subscriptions.service';

const NOT_SOLD = new Set(['NONE', 'TRIAL', 'CUSTOM']);
/** Longer than the claim holder's Stripe work can take (STRIPE_TIMEOUT_MS, at most 30 s, and its queries). */
const CLAIM_LEASE_MS = 60_000;
/** Stripe's default lifetime of a Checkout Session, for an answer that does not name it. */
const SESSION_LIFETIME_MS = 24 * 3_600_000;

type Owner = { accountId: string; userId: string };
type OpenSession = { id: string; url: string };

/**
 * Buying a plan through Stripe Checkout, and cancelling at period end. Stripe is called outside
 * any transaction: the account's row is locked only to apply what Stripe answered, after checking
 * again that nothing moved meanwhile.
 */
@Injectable()
export class SubscriptionCheckoutService {
  private readonly logger = new Logger('SubscriptionCheckout');

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly checkouts: SubscriptionCheckoutsRepository,
    private readonly plans: PlansRepository,
    private readonly accounts: AccountsRepository,
    private readonly users: UsersRepository,
    private readonly changes: SubscriptionChangesService,
    private readonly views: SubscriptionsService,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
    @Inject(STRIPE) private readonly stripe: StripeApi,
    private readonly stripeDeadlines: StripeDeadlines,
    private readonly background: BackgroundTasks,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * A Checkout Session in subscription mode for the plan's Stripe price, for the account's one
   * Stripe customer; checkout.session.completed then activates the plan. An account has one open
   * session: asking again for the same plan and links (concurrently or later) answers it again;
   * asking for another expires it at Stripe first, so it can no longer be paid. Waiting for another
   * request's session counts against this request's Stripe deadline, as its own calls do.
   */
  async checkout(principal: Principal, dto: SubscriptionCheckoutCreateDto): Promise<OpenSession> {
    assertAllowedLink('successUrl', dto.successUrl, this.config.allowedLinkOrigins);
    assertAllowedLink('cancelUrl', dto.cancelUrl, this.config.allowedLinkOrigins);
    if (NOT_SOLD.has(dto.planCode)) throw new DomainError('PLAN_NOT_PURCHASABLE');
    const plan = await this.plans.findPreset(dto.planCode as Exclude<typeof dto.planCode, 'CUSTOM'>);
    if (!plan?.stripePriceId) throw new DomainError('PLAN_NOT_ON_STRIPE');
    if (!this.config.stripe.secretKey) throw new DomainError('SERVICE_UNAVAILABLE', { params: { retryAfter: 3600 } });
    const account = await this.activeAccount(principal);
    const user = await this.users.findById(principal.userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    await this.refuseLiveSubscription(account.id);

    const claimId = randomUUID();
    const deadline = this.stripeDeadlines.start();
    const open = await this.claimOrJoin(deadline, account.id, claimId, { planCode: plan.code, successUrl: dto.successUrl, cancelUrl: dto.cancelUrl });
    if (open) return open;
    try {
      return await this.openSession(deadline, { accountId: account.id, userId: user.id }, user, plan, dto, claimId);
    } catch (error) {
      await this.checkouts.release(account.id, claimId);
      throw error;
    }
  }

  /**
   * cancelAtPeriodEnd: a Stripe subscription is told through Stripe's API (its deleted event ends
   * it); any other keeps its plan until its period ends, then reads as CANCELED.
   */
  async cancel(principal: Principal, lang: Language) {
    const account = await this.activeAccount(principal);
    const owner = { accountId: account.id, userId: account.userId };
    const deadline = this.stripeDeadlines.start();
    // A Stripe subscription attached between the read and the lock is told on the next round.
    for (let round = 1; !(await this.cancelOnce(deadline, owner)); round++) {
      if (round === 3) throw new DomainError('CONFLICT');
    }
    return this.views.me(principal, lang);
  }

  /** True once applied; false when the account's Stripe subscription changed after Stripe was told. */
  private async cancelOnce(deadline: StripeDeadline, owner: Owner): Promise<boolean> {
    const seen = (await this.subscriptions.findByAccount(owner.accountId))?.subscription;
    // A Stripe subscription is cancelled whatever the plan reads now: after a lapsed grace period
    // the row reads NONE while Stripe keeps retrying the payment.
    const told = seen && hasLiveStripeSubscription(seen) && !seen.cancelAtPeriodEnd ? seen.stripeSubscriptionId : null;
    if (told) {
      if (!this.config.stripe.secretKey) throw new DomainError('SERVICE_UNAVAILABLE', { params: { retryAfter: 3600 } });
      await deadline.write((options) => this.stripe.call((api) => api.subscriptions.update(told, { cancel_at_period_end: true }, options)));
    }
    return this.transactions.run(async (tx) => {
      const { current } = await this.changes.lock(tx, owner, this.clock.now());
      const row = current.subscription;
      const billedByStripe = hasLiveStripeSubscription(row);
      if ((current.plan.code === 'NONE' && !billedByStripe) || row.cancelAtPeriodEnd) return true;
      if (billedByStripe && row.stripeSubscriptionId !== told) return false;
      // No renewal is coming, so no grace beyond the period either.
      const ends = [row.currentPeriodEnd, row.expiresAt].filter((date): date is Date => date !== null);
      const expiresAt = ends.length > 0 ? new Date(Math.min(...ends.map((date) => date.getTime()))) : null;
      await this.subscriptions.update(tx, row.id, { cancelAtPeriodEnd: true, expiresAt });
      return true;
    });
  }

  /**
   * Claims the account's checkout for this request (undefined: go and make the session), or
   * answers the open session asked for the same way. While another request holds the claim and
   * has no session yet, waits for it, until the deadline.
   */
  private async claimOrJoin(deadline: StripeDeadline, accountId: string, claimId: string, request: CheckoutRequest): Promise<OpenSession | undefined> {
    for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
      const now = this.clock.now();
      const claim: CheckoutClaim = { claimId, request, now, leaseUntil: new Date(now.getTime() + CLAIM_LEASE_MS) };
      const row = await this.checkouts.claim(accountId, claim);
      if (row?.claimId === claimId) return undefined;
      if (row?.sessionId && row.url) {
        if (row.planCode === request.planCode && row.successUrl === request.successUrl && row.cancelUrl === request.cancelUrl) {
          return { id: row.sessionId, url: row.url };
        }
        await this.expireSession(deadline, row.sessionId);
        if (await this.checkouts.takeOver(accountId, row.claimId, claim)) return undefined;
        continue;
      }
      if (!row) continue;
      if (deadline.remainingMs() < 1) throw new DomainError('CHECKOUT_IN_PROGRESS', { params: { retryAfter: 1 } });
      await sleep(Math.min(pause, deadline.remainingMs()));
    }
  }

  /** The claim holder's work: the customer and the session at Stripe, then recorded under the lock. */
  private async openSession(
    deadline: StripeDeadline,
    owner: Owner,
    user: UserRow,
    plan: PlanRow,
    dto: SubscriptionCheckoutCreateDto,
    claimId: string,
  ): Promise<OpenSession> {
    const customer = await this.customerOf(deadline, owner, user);
    const metadata = { userId: user.id, accountId: owner.accountId, planCode: plan.code };
    const session = await deadline.write(
      (options) =>
        this.stripe.call((api) =>
          api.checkout.sessions.create(
            {
              mode: 'subscription',
              customer,
              line_items: [{ price: plan.stripePriceId!, quantity: 1 }],
              client_reference_id: owner.accountId,
              metadata,
              // Copied onto the subscription, so its own events name the account too.
              subscription_data: { metadata },
              success_url: dto.successUrl,
              cancel_url: dto.cancelUrl,
            },
            options,
          ),
        ),
      // A retry of this very call makes no second session.
      `gatehouse-subscription-checkout-${claimId}`,
    );
    const url = session.url ?? '';
    const expiresAt = session.expires_at ? new Date(session.expires_at * 1000) : new Date(this.clock.now().getTime() + SESSION_LIFETIME_MS);
    const outcome = await this.transactions.run(async (tx) => {
      const { current } = await this.changes.lock(tx, owner, this.clock.now());
      if (hasLiveStripeSubscription(current.subscription)) return 'SUBSCRIBED';
      return (await this.checkouts.recordSession(tx, owner.accountId, claimId, { sessionId: session.id, url, expiresAt })) ? 'RECORDED' : 'CLAIM_LOST';
    });
    if (outcome === 'RECORDED') return { id: session.id, url };
    // Nobody may pay a session that is not the account's one open checkout. Expired after the
    // answer, on a deadline of its own: what is left of this request's may not suffice.
    this.background.run(`expiring checkout session ${session.id}`, () =>
      this.expireSession(this.stripeDeadlines.start(), session.id).catch((error: unknown) =>
        this.logger.warn(`Checkout session ${session.id} of account ${owner.accountId} could not be expired: ${(error as Error).message}`),
      ),
    );
    throw outcome === 'SUBSCRIBED' ? new DomainError('STRIPE_SUBSCRIPTION_EXISTS') : new DomainError('CHECKOUT_IN_PROGRESS', { params: { retryAfter: 1 } });
  }

  /** The account's one Stripe customer, made on its first checkout (only the claim holder gets here). */
  private async customerOf(deadline: StripeDeadline, owner: Owner, user: UserRow): Promise<string> {
    const known = (await this.subscriptions.findByAccount(owner.accountId))?.subscription.stripeCustomerId;
    if (known) return known;
    const created = await deadline.write(
      (options) => this.stripe.call((api) => api.customers.create({ email: user.email, metadata: { accountId: owner.accountId, userId: user.id } }, options)),
      `gatehouse-customer-${owner.accountId}`,
    );
    return this.transactions.run(async (tx) => {
      const { current } = await this.changes.lock(tx, owner, this.clock.now());
      const row = current.subscription;
      // Stored by a request whose claim lapsed: that one stays the account's; ours is left unused.
      if (row.stripeCustomerId) return row.stripeCustomerId;
      await this.subscriptions.update(tx, row.id, { stripeCustomerId: created.id });
      return created.id;
    });
  }

  /** Expires an open session at Stripe; a session already paid means a subscription is on its way (409). */
  private async expireSession(deadline: StripeDeadline, sessionId: string): Promise<void> {
    try {
      await deadline.write((options) => this.stripe.call((api) => api.checkout.sessions.expire(sessionId, {}, options)));
    } catch (error) {
      const status = await deadline
        .read((options) => this.stripe.call((api) => api.checkout.sessions.retrieve(sessionId, {}, options)))
        .then(
          (session) => session.status,
          () => undefined,
        );
      if (status === 'expired') return;
      if (status === 'complete') throw new DomainError('STRIPE_SUBSCRIPTION_EXISTS');
      throw error;
    }
  }

  private async refuseLiveSubscription(accountId: string): Promise<void> {
    const current = await this.subscriptions.findByAccount(accountId);
    if (current && hasLiveStripeSubscription(current.subscription)) throw new DomainError('STRIPE_SUBSCRIPTION_EXISTS');
  }

  private async activeAccount(principal: Principal) {
    const account = await this.accounts.findByUser(principal.userId);
    if (!account || account.status !== 'ACTIVE') throw new DomainError('ACCOUNT_NOT_ACTIVE');
    return account;
  }
}
