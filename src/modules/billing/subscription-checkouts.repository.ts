import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNull, lte, or } from 'drizzle-orm';
import { Database, DB, Transaction } from '../../db/database';
import { subscriptionCheckouts } from '../../db/schema';

export type CheckoutRow = typeof subscriptionCheckouts.$inferSelect;

/** What a checkout was asked for: a second request asking the same gets the same session. */
export type CheckoutRequest = Pick<CheckoutRow, 'planCode' | 'successUrl' | 'cancelUrl'>;

export interface CheckoutClaim {
  claimId: string;
  request: CheckoutRequest;
  now: Date;
  leaseUntil: Date;
}

/** An account's one open Checkout Session for a plan, and the claim of the request making it. */
@Injectable()
export class SubscriptionCheckoutsRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /**
   * One conditional write: the row becomes this claim's unless another request's claim is live or
   * its session is still open. Answers the row as it stands (ours when `claimId` is ours), or
   * undefined when it vanished between the two statements.
   */
  async claim(accountId: string, claim: CheckoutClaim): Promise<CheckoutRow | undefined> {
    const fresh = {
      claimId: claim.claimId,
      claimedUntil: claim.leaseUntil,
      ...claim.request,
      sessionId: null,
      url: null,
      expiresAt: null,
      createdAt: claim.now,
    };
    const [claimed] = await this.db
      .insert(subscriptionCheckouts)
      .values({ accountId, ...fresh })
      .onConflictDoUpdate({
        target: subscriptionCheckouts.accountId,
        set: fresh,
        setWhere: or(
          and(isNull(subscriptionCheckouts.sessionId), lte(subscriptionCheckouts.claimedUntil, claim.now)),
          lte(subscriptionCheckouts.expiresAt, claim.now),
        ),
      })
      .returning();
    if (claimed) return claimed;
    const [row] = await this.db.select().from(subscriptionCheckouts).where(eq(subscriptionCheckouts.accountId, accountId));
    return row;
  }

  /** Replaces an open session (already expired at Stripe) with this claim; false when another request replaced it first. */
  async takeOver(accountId: string, replacedClaimId: string, claim: CheckoutClaim): Promise<boolean> {
    const rows = await this.db
      .update(subscriptionCheckouts)
      .set({ claimId: claim.claimId, claimedUntil: claim.leaseUntil, ...claim.request, sessionId: null, url: null, expiresAt: null, createdAt: claim.now })
      .where(and(eq(subscriptionCheckouts.accountId, accountId), eq(subscriptionCheckouts.claimId, replacedClaimId)))
      .returning({ accountId: subscriptionCheckouts.accountId });
    return rows.length > 0;
  }

  /** Records the session made under `claimId`; false when the claim was lost (its lease ran out and another request took it). */
  async recordSession(tx: Transaction, accountId: string, claimId: string, session: { sessionId: string; url: string; expiresAt: Date }): Promise<boolean> {
    const rows = await tx
      .update(subscriptionCheckouts)
      .set(session)
      .where(and(eq(subscriptionCheckouts.accountId, accountId), eq(subscriptionCheckouts.claimId, claimId), isNull(subscriptionCheckouts.sessionId)))
      .returning({ accountId: subscriptionCheckouts.accountId });
    return rows.length > 0;
  }

  /** Frees a claim that made no session (Stripe failed, or the account got a subscription meanwhile). */
  async release(accountId: string, claimId: string): Promise<void> {
    await this.db
      .delete(subscriptionCheckouts)
      .where(and(eq(subscriptionCheckouts.accountId, accountId), eq(subscriptionCheckouts.claimId, claimId), isNull(subscriptionCheckouts.sessionId)));
  }

  /** Forgets the account's checkout once one of its sessions has been paid. */
  async clear(tx: Transaction, accountId: string): Promise<void> {
    await tx.delete(subscriptionCheckouts).where(eq(subscriptionCheckouts.accountId, accountId));
  }
}
