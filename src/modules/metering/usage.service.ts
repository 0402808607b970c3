import { Injectable } from '@nestjs/common';
import { Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { Language } from '../../common/i18n/language';
import { isoOrNull } from '../../common/iso';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { EntitlementsService } from './entitlements.service';
import { QuotaCountersRepository } from './quota-counters.repository';
import { quotaWindow } from './quota-windows';

/** What each limit of a user's plan has counted in its current window, as the user and an ADMIN see it. */
@Injectable()
export class UsageService {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly entitlements: EntitlementsService,
    private readonly counters: QuotaCountersRepository,
    private readonly clock: Clock,
  ) {}

  /** The caller's own subscription, with its usage; NONE (and the free tier's usage) for a user without an account or a subscription yet. */
  async mine(principal: Principal, lang: Language) {
    const [view, usage] = await Promise.all([this.subscriptions.mine(principal, lang), this.usageOf(principal.userId)]);
    return { ...view, usage: usage.items };
  }

  /** ADMIN: any account's usage in the current windows of its plan. */
  async forAccount(accountId: string) {
    const owner = await this.subscriptions.ownerOfAccount(accountId);
    const usage = await this.usageOf(owner.userId);
    return { accountId, userId: owner.userId, planCode: usage.plan, plan: usage.plan, usage: usage.items };
  }

  private async usageOf(userId: string) {
    const entitlement = await this.entitlements.fresh(userId);
    // Every limit of a plan shares the plan's reset period, so one window serves them all.
    const window = quotaWindow(entitlement.terms.limitResetPeriod, entitlement.periodStart, entitlement.periodEnd, this.clock.now());
    const counters = await this.counters.forWindow(userId, entitlement.periodStart, window.start);
    const items = entitlement.terms.limits.map(({ apiVersion, endpoint, maxCalls }) => {
      const used = counters.find((row) => row.apiVersion === apiVersion && row.endpoint === endpoint)?.used ?? 0;
      return { apiVersion, endpoint, used, limit: maxCalls, remaining: Math.max(0, maxCalls - used), resetsAt: isoOrNull(window.end) };
    });
    return { plan: entitlement.plan, items };
  }
}
