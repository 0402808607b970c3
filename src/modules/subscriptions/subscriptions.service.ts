import { Injectable } from '@nestjs/common';
import { actingUserId, Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { GeoLocator } from '../../common/geo/geo-locator';
import { Language } from '../../common/i18n/language';
import { toPage } from '../../common/pagination';
import type { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { AccountsService } from '../accounts/accounts.service';
import { SubscriptionChangesService } from './subscription-changes.service';
import { PlanRow, PlansRepository } from './plans.repository';
import { hasLiveStripeSubscription, SubscriptionTermsService } from './subscription-terms.service';
import { toSubscriptionView } from './subscriptions.mapper';
import { AdminListFilter, SubscriptionsRepository } from './subscriptions.repository';
import { CustomPlanInput, presetOf, SubscriptionUpdateDto } from './subscriptions.schemas';

const NOT_SOLD = new Set(['NONE', 'TRIAL', 'CUSTOM']);
import { PLAN_CODES } from '../../db/schema/subscriptions';

@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly plans: PlansRepository,
    private readonly accounts: AccountsService,
    private readonly changes: SubscriptionChangesService,
    private readonly terms: SubscriptionTermsService,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
    private readonly geo: GeoLocator,
  ) {}

  /** The caller's account, which must be ACTIVE to buy or cancel a plan. */
  async activeAccountOf(principal: Principal): Promise<{ accountId: string; userId: string }> {
    const account = await this.accounts.findByUser(principal.userId);
    if (!account || account.status !== 'ACTIVE') throw new DomainError('ACCOUNT_NOT_ACTIVE');
    return { accountId: account.id, userId: account.userId };
  }

  /** A preset sold through the payment provider, with its price there. */
  async presetForSale(code: (typeof PLAN_CODES)[number]): Promise<PlanRow & { stripePriceId: string }> {
    if (NOT_SOLD.has(code)) throw new DomainError('PLAN_NOT_PURCHASABLE');
    const plan = await this.plans.findPreset(code as Exclude<typeof code, 'CUSTOM'>);
    if (!plan?.stripePriceId) throw new DomainError('PLAN_NOT_ON_STRIPE');
    return plan as PlanRow & { stripePriceId: string };
  }

  /** What the provider knows of the account's subscription; undefined before its first row. */
  async providerStateOf(
    accountId: string,
  ): Promise<{ customerId: string | null; subscriptionId: string | null; live: boolean; cancelAtPeriodEnd: boolean } | undefined> {
    const row = (await this.subscriptions.findByAccount(accountId))?.subscription;
    if (!row) return undefined;
    return {
      customerId: row.stripeCustomerId,
      subscriptionId: row.stripeSubscriptionId,
      live: hasLiveStripeSubscription(row),
      cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    };
  }

  /** Under the account's lock (the caller's transaction): whether a live provider subscription bills it now. */
  async lockBilledByProvider(tx: Transaction, owner: { accountId: string; userId: string }): Promise<boolean> {
    const { current } = await this.changes.lock(tx, owner, this.clock.now());
    return hasLiveStripeSubscription(current.subscription);
  }

  /** The account's one customer at the provider: `created`, unless another request stored one first (that one stays). */
  attachCustomer(owner: { accountId: string; userId: string }, created: string): Promise<string> {
    return this.transactions.run(async (tx) => {
      const { current } = await this.changes.lock(tx, owner, this.clock.now());
      const row = current.subscription;
      if (row.stripeCustomerId) return row.stripeCustomerId;
      await this.subscriptions.update(tx, row.id, { stripeCustomerId: created });
      return created;
    });
  }

  /**
   * Cancel at period end, once the provider was told about `told` (null: not billed there). True
   * once applied; false when the account's provider subscription changed after it was told.
   */
  cancelAtPeriodEnd(owner: { accountId: string; userId: string }, told: string | null): Promise<boolean> {
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

  /** The caller's own; NONE for a user without an account or a subscription yet. */
  async mine(principal: Principal, lang: Language) {
    const account = await this.accounts.findByUser(principal.userId);
    return this.view({ accountId: account?.id ?? null, userId: principal.userId }, lang);
  }

  /** ADMIN: the account an ADMIN names, with its owner. */
  async ownerOfAccount(accountId: string): Promise<{ accountId: string; userId: string }> {
    const owner = await this.subscriptions.findAccount(accountId);
    if (!owner) throw new DomainError('NOT_FOUND');
    return owner;
  }

  /** ADMIN: any account's. */
  async forAccount(accountId: string, lang: Language) {
    return this.view(await this.ownerOfAccount(accountId), lang);
  }

  /** ADMIN: every account, by what its subscription reads as now. */
  async list(filter: AdminListFilter, cursor: string | undefined, limit: number, lang: Language) {
    const now = this.clock.now();
    const [rows, nonePlan] = await Promise.all([this.subscriptions.listForAdmin(filter, cursor, limit, now), this.terms.nonePlan()]);
    const page = toPage(
      rows.map((row) => ({ ...row, id: row.accountId })),
      limit,
    );
    return {
      items: page.items.map((row) => toSubscriptionView({ accountId: row.accountId, userId: row.userId }, this.terms.asOf(row.current, nonePlan, now), lang)),
      nextCursor: page.nextCursor,
    };
  }

  /**
   * POST /v1/accounts/update-subscription: the role and account checks, then the change, with the
   * account's subscription locked (two requests for one account are applied one after the other).
   */
  async update(principal: Principal, dto: SubscriptionUpdateDto, lang: Language) {
    const isAdmin = principal.role === 'ADMIN';
    const userId = actingUserId(principal, dto.userId);
    const account = await this.accounts.findByUser(userId);
    if (!account || (dto.subscriberId !== undefined && account.id !== dto.subscriberId)) throw new DomainError('NOT_FOUND');
    if (account.status !== 'ACTIVE') throw new DomainError('ACCOUNT_NOT_ACTIVE');
    if (dto.customPlan && !isAdmin) throw new DomainError('FORBIDDEN');

    const owner = { accountId: account.id, userId: account.userId };
    const now = this.clock.now();
    const context = { source: isAdmin ? ('ADMIN' as const) : ('USER' as const), actorUserId: principal.userId, at: now };
    await this.transactions.run(async (tx) => {
      const code = presetOf(dto);
      const preset = code ? await this.plans.findPresetIn(tx, code) : undefined;
      if (preset && preset.code !== 'NONE' && preset.priceMinor > 0 && !isAdmin) throw new DomainError('PAYMENT_REQUIRED');
      const { current } = await this.changes.lock(tx, owner, now);
      // Stripe keeps billing until its subscription is cancelled, and its next event would undo a
      // change made here: a Stripe-billed account changes plan through Stripe (cancel, then buy).
      if (hasLiveStripeSubscription(current.subscription)) throw new DomainError('STRIPE_SUBSCRIPTION_EXISTS');
      if (preset?.code === 'NONE' && current.plan.code === 'NONE') return;
      if (preset?.code === 'TRIAL' && (await this.subscriptions.hasEnteredTrial(tx, owner.userId))) throw new DomainError('TRIAL_ALREADY_USED');
      const plan = preset ?? (await this.plans.insertCustom(tx, customPlanRow(account.id, dto.customPlan!)));
      // A race past this check is refused by the history's one-trial index, with the same code.
      await this.changes.applyPlanChange(tx, current, plan, context);
    });
    this.geo.prepareFor(dto.customPlan?.geoScope);
    return this.view(owner, lang);
  }

  private async view(owner: { accountId: string | null; userId: string }, lang: Language) {
    const now = this.clock.now();
    const [current, nonePlan] = await Promise.all([owner.accountId ? this.subscriptions.findByAccount(owner.accountId) : undefined, this.terms.nonePlan()]);
    return toSubscriptionView(owner, this.terms.asOf(current, nonePlan, now), lang);
  }
}

function customPlanRow(accountId: string, input: CustomPlanInput): Parameters<PlansRepository['insertCustom']>[1] {
  return {
    code: 'CUSTOM',
    accountId,
    name: { en: input.name, tr: input.name, ar: input.name },
    durationUnit: input.duration.unit,
    durationCount: input.duration.count,
    limitResetPeriod: input.limitResetPeriod,
    geoScope: input.geoScope,
    limits: input.limits,
    rateLimitCount: input.rateLimit?.count ?? null,
    rateLimitWindowSeconds: input.rateLimit?.windowSeconds ?? null,
  } satisfies Partial<PlanRow>;
}
