import { Injectable } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { iso, isoOrNull } from '../../common/iso';
import { MailService } from '../../common/mail/mail.service';
import { TransactionRunner } from '../../db/transaction';
import { OutboxService } from '../outbox/outbox.service';
import { UsersService } from '../users/users.service';
import type { Charge } from './charge';
import { QuotaAlert, QuotaCountersRepository } from './quota-counters.repository';

/** The share of a limit at which the warning fires. */
export const QUOTA_WARNING_RATIO = 0.8;
const CLAIMED_MEMO_MAX = 10_000;

const EVENT_TYPE = { warning: 'subscription.quota.warning', exceeded: 'subscription.quota.exceeded' } as const;
const TEMPLATE = { warning: 'quotaWarning', exceeded: 'quotaExceeded' } as const;

/**
 * The 80% and 100% alerts of a quota window: an outbox event and a mail to the user, each once per
 * window. The counter row's alert column is claimed in the transaction that writes the event and
 * queues the mail, so two instances racing past the threshold send one of each.
 */
@Injectable()
export class QuotaAlertsService {
  /** Alerts already claimed here: a spent quota refuses every call, and each need not ask again. */
  private readonly claimed = new Set<string>();

  constructor(
    private readonly counters: QuotaCountersRepository,
    private readonly outbox: OutboxService,
    private readonly users: UsersService,
    private readonly mail: MailService,
    private readonly transactions: TransactionRunner,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  /**
   * After a call was counted or refused, with what the window holds now. Raised on every call past
   * a threshold, not only the one that crossed it: if that one's alert failed, a later call (on any
   * instance) sends it; the memo and the claimed column keep each to once. A spent quota makes the
   * warning moot: a call that crosses both (a cost from 70% to 100%) sends only the 100% alert.
   */
  afterCall(charge: Charge, used: number): void {
    const limit = charge.limit.maxCalls;
    if (used >= limit) this.raise(charge, 'exceeded', used);
    else if (used >= Math.ceil(limit * QUOTA_WARNING_RATIO)) this.raise(charge, 'warning', used);
  }

  private raise(charge: Charge, alert: QuotaAlert, used: number): void {
    const memo = `${alert}|${JSON.stringify(charge.key)}`;
    if (this.claimed.has(memo)) return;
    if (this.claimed.size >= CLAIMED_MEMO_MAX) this.claimed.clear();
    this.claimed.add(memo);
    this.background.run(`quota ${alert}`, () =>
      this.send(charge, alert, used).catch((error: unknown) => {
        this.claimed.delete(memo);
        throw error;
      }),
    );
  }

  private async send(charge: Charge, alert: QuotaAlert, used: number): Promise<void> {
    const { entitlement, limit, window, key } = charge;
    const payload = {
      userId: entitlement.userId,
      accountId: entitlement.accountId,
      planCode: entitlement.plan,
      plan: entitlement.plan,
      apiVersion: limit.apiVersion,
      endpoint: limit.endpoint,
      limit: limit.maxCalls,
      used,
      windowStart: iso(window.start),
      resetsAt: isoOrNull(window.end),
    };
    await this.transactions.run(async (tx) => {
      if (!(await this.counters.claimAlert(tx, key, alert, this.clock.now()))) return;
      await this.outbox.append(tx, { type: EVENT_TYPE[alert], payload });
      const recipient = await this.users.recipientIn(tx, entitlement.userId);
      if (!recipient) return;
      await this.mail.queue(tx, recipient.user, TEMPLATE[alert], {
        name: recipient.name,
        plan: entitlement.plan,
        used: String(used),
        limit: String(limit.maxCalls),
        apiVersion: limit.apiVersion,
        endpoint: limit.endpoint,
        resetsAt: payload.resetsAt ?? '-',
      });
    });
  }
}
