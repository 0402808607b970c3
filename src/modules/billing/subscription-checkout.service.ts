import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Principal } from '../../common/auth/principal';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { Language } from '../../common/i18n/language';
import { TransactionRunner } from '../../db/transaction';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { UsersService } from '../users/users.service';
import { SubscriptionCheckoutCreateDto } from './billing.schemas';
import { CheckoutFlow, CheckoutStrategy } from './checkout-flow';
import { PAYMENT_PROVIDER, PaymentDeadline, PaymentProvider } from './payment-provider';
import { CheckoutClaim, CheckoutRequest, SubscriptionCheckoutsRepository } from './subscription-checkouts.repository';

/** Longer than the claim holder's provider work can take (STRIPE_TIMEOUT_MS, at most 30 s, and its queries). */
const CLAIM_LEASE_MS = 60_000;
/** Stripe's default lifetime of a Checkout Session, for an answer that does not name it. */
const SESSION_LIFETIME_MS = 24 * 3_600_000;

type Owner = { accountId: string; userId: string };
type OpenSession = { id: string; url: string };
type Plan = Awaited<ReturnType<SubscriptionsService['presetForSale']>>;

/**
 * Buying a plan through a checkout session, and cancelling at period end. The provider is called
 * outside any transaction: the account's row is locked only to apply what it answered, after
 * checking again that nothing moved meanwhile.
 */
@Injectable()
export class SubscriptionCheckoutService {
  private readonly logger = new Logger('SubscriptionCheckout');

  constructor(
    private readonly flow: CheckoutFlow,
    private readonly subscriptions: SubscriptionsService,
    private readonly checkouts: SubscriptionCheckoutsRepository,
    private readonly users: UsersService,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    private readonly background: BackgroundTasks,
  ) {}

  /**
   * A session in subscription mode for the plan's price, for the account's one customer at the
   * provider; its completion then activates the plan. An account has one open session: asking
   * again for the same plan and links (concurrently or later) answers it again; asking for another
   * expires it first, so it can no longer be paid. Waiting for another request's session counts
   * against this request's deadline, as its own calls do.
   */
  async checkout(principal: Principal, dto: SubscriptionCheckoutCreateDto): Promise<OpenSession> {
    this.flow.assertLinks(dto);
    const plan = await this.subscriptions.presetForSale(dto.planCode);
    this.flow.assertProvider();
    const owner = await this.subscriptions.activeAccountOf(principal);
    const user = await this.users.findById(principal.userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    if ((await this.subscriptions.providerStateOf(owner.accountId))?.live) throw new DomainError('STRIPE_SUBSCRIPTION_EXISTS');
    return this.flow.run(this.strategy(owner, user, plan, dto));
  }

  /**
   * cancelAtPeriodEnd: a provider subscription is told through the provider (its cancelled event
   * ends it); any other keeps its plan until its period ends, then reads as CANCELED.
   */
  async cancel(principal: Principal, lang: Language) {
    const owner = await this.subscriptions.activeAccountOf(principal);
    const deadline = this.provider.startDeadline();
    // A provider subscription attached between the read and the lock is told on the next round.
    for (let round = 1; !(await this.cancelOnce(deadline, owner)); round++) {
      if (round === 3) throw new DomainError('CONFLICT');
    }
    return this.subscriptions.mine(principal, lang);
  }

  private async cancelOnce(deadline: PaymentDeadline, owner: Owner): Promise<boolean> {
    const seen = await this.subscriptions.providerStateOf(owner.accountId);
    // Cancelled whatever the plan reads now: after a lapsed grace period the row reads NONE while
    // the provider keeps retrying the payment.
    const told = seen?.live && !seen.cancelAtPeriodEnd ? seen.subscriptionId : null;
    if (told) {
      this.flow.assertProvider();
      await this.provider.cancelSubscriptionAtPeriodEnd(deadline, told);
    }
    return this.subscriptions.cancelAtPeriodEnd(owner, told);
  }

  private strategy(owner: Owner, user: { id: string; email: string }, plan: Plan, dto: SubscriptionCheckoutCreateDto): CheckoutStrategy<string, OpenSession> {
    const claimId = randomUUID();
    const request = { planCode: plan.code, successUrl: dto.successUrl, cancelUrl: dto.cancelUrl };
    return {
      reserve: async (deadline) => {
        const open = await this.claimOrJoin(deadline, owner.accountId, claimId, request);
        return open ? { answer: open } : { reservation: claimId };
      },
      session: async (deadline) => {
        const metadata = { userId: user.id, accountId: owner.accountId, planCode: plan.code };
        return {
          request: {
            mode: 'subscription',
            customer: { customerId: await this.customerOf(deadline, owner, user) },
            lines: [{ priceId: plan.stripePriceId, quantity: 1 }],
            reference: owner.accountId,
            metadata,
            // Copied onto the subscription, so its own events name the account too.
            carriedMetadata: metadata,
            successUrl: dto.successUrl,
            cancelUrl: dto.cancelUrl,
          },
          // A retry of this very call makes no second session.
          idempotencyKey: `gatehouse-subscription-checkout-${claimId}`,
        };
      },
      record: (_deadline, claim, session) => this.record(owner, claim, session),
      release: (claim) => this.checkouts.release(owner.accountId, claim),
    };
  }

  /** The session recorded as the account's one open checkout, under the account's lock. */
  private async record(owner: Owner, claimId: string, session: { id: string; url: string; expiresAt: Date | null }): Promise<OpenSession> {
    const { id, url } = session;
    const expiresAt = session.expiresAt ?? new Date(this.clock.now().getTime() + SESSION_LIFETIME_MS);
    const outcome = await this.transactions.run(async (tx) => {
      if (await this.subscriptions.lockBilledByProvider(tx, owner)) return 'SUBSCRIBED';
      return (await this.checkouts.recordSession(tx, owner.accountId, claimId, { sessionId: id, url, expiresAt })) ? 'RECORDED' : 'CLAIM_LOST';
    });
    if (outcome === 'RECORDED') return { id, url };
    // Nobody may pay a session that is not the account's one open checkout. Expired after the
    // answer, on a deadline of its own: what is left of this request's may not suffice.
    this.background.run(`expiring checkout session ${id}`, () =>
      this.expireSession(this.provider.startDeadline(), id).catch((error: unknown) =>
        this.logger.warn(`Checkout session ${id} of account ${owner.accountId} could not be expired: ${(error as Error).message}`),
      ),
    );
    throw outcome === 'SUBSCRIBED' ? new DomainError('STRIPE_SUBSCRIPTION_EXISTS') : new DomainError('CHECKOUT_IN_PROGRESS', { params: { retryAfter: 1 } });
  }

  /**
   * Claims the account's checkout for this request (undefined: go and make the session), or
   * answers the open session asked for the same way. While another request holds the claim and
   * has no session yet, waits for it, until the deadline.
   */
  private async claimOrJoin(deadline: PaymentDeadline, accountId: string, claimId: string, request: CheckoutRequest): Promise<OpenSession | undefined> {
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

  /** The account's one customer at the provider, made on its first checkout (only the claim holder gets here). */
  private async customerOf(deadline: PaymentDeadline, owner: Owner, user: { id: string; email: string }): Promise<string> {
    const known = (await this.subscriptions.providerStateOf(owner.accountId))?.customerId;
    if (known) return known;
    const created = await this.provider.createCustomer(
      deadline,
      { email: user.email, metadata: { accountId: owner.accountId, userId: user.id } },
      `gatehouse-customer-${owner.accountId}`,
    );
    // Stored by a request whose claim lapsed: that one stays the account's; ours is left unused.
    return this.subscriptions.attachCustomer(owner, created);
  }

  /** Expires an open session; a session already paid means a subscription is on its way (409). */
  private async expireSession(deadline: PaymentDeadline, sessionId: string): Promise<void> {
    try {
      await this.provider.expireCheckoutSession(deadline, sessionId);
    } catch (error) {
      const status = await this.provider.checkoutSessionStatus(deadline, sessionId).catch(() => undefined);
      if (status === 'expired') return;
      if (status === 'complete') throw new DomainError('STRIPE_SUBSCRIPTION_EXISTS');
      throw error;
    }
  }
}
