import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { TransactionRunner } from '../../db/transaction';
import { SubscriptionChangesService } from './subscription-changes.service';
import { isLapsed } from './subscription-terms.service';
import { SubscriptionsRepository } from './subscriptions.repository';

const SWEEP_INTERVAL_MS = 60_000;
const BATCH = 100;

/**
 * Every minute (and once at boot), records each subscription whose term ended: the EXPIRY
 * history row and its outbox event. Reads do not wait for it (they apply the same rule at once);
 * it is what makes the change heard. A subscription a request holds locked is left to the next sweep.
 */
@Injectable()
export class SubscriptionExpirySweeper implements OnModuleInit {
  private readonly logger = new Logger('Subscriptions');

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly changes: SubscriptionChangesService,
    private readonly transactions: TransactionRunner,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  onModuleInit() {
    this.background.every('subscription expiry sweep', SWEEP_INTERVAL_MS, async () => void (await this.sweep()));
  }

  /** Returns how many subscriptions it expired. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    let expired = 0;
    for (;;) {
      const ids = await this.subscriptions.expiredIds(now, BATCH);
      let done = 0;
      for (const id of ids) if (await this.expireOne(id, now)) done++;
      expired += done;
      // Rows skipped as busy stay due; stop rather than spin on them.
      if (ids.length < BATCH || done === 0) break;
    }
    if (expired > 0) this.logger.log(`Expired ${expired} subscriptions`);
    return expired;
  }

  private expireOne(id: string, now: Date): Promise<boolean> {
    return this.transactions.run(async (tx) => {
      const locked = await this.subscriptions.lockUnlessBusy(tx, id);
      const nonePlan = await this.changes.nonePlan(tx);
      if (!locked || !isLapsed(locked.subscription, now) || locked.plan.id === nonePlan.id) return false;
      await this.changes.expire(tx, locked, nonePlan, now);
      return true;
    });
  }
}
