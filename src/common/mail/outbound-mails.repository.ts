import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gte, inArray, isNotNull, isNull, lt, lte, min, or, sql } from 'drizzle-orm';
import { Database, DB, Transaction } from '../../db/database';
import { outboundMails } from '../../db/schema';

export type OutboundMailRow = typeof outboundMails.$inferSelect;
export type NewOutboundMail = Omit<typeof outboundMails.$inferInsert, 'id' | 'status' | 'attemptCount'>;
/** Where an attempt leaves the mail: sent, due again later, or given up. */
export type MailNextState = Pick<OutboundMailRow, 'status' | 'nextAttemptAt' | 'lastError' | 'completedAt' | 'lastAttemptAt'>;

/** No send in flight holds the mail: never leased, or its lease ran out (a crash mid-send). */
const leaseFree = (now: Date) => or(isNull(outboundMails.leaseUntil), lt(outboundMails.leaseUntil, now));

@Injectable()
export class OutboundMailsRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  async insert(tx: Transaction, mail: NewOutboundMail): Promise<void> {
    await tx.insert(outboundMails).values(mail);
  }

  /**
   * Inserts the mail unless its address already has `max` mails of `templates` created since
   * `since`; then the oldest of those, which leaves the window first. Exact under concurrency: a
   * transaction-scoped advisory lock on the address orders every count-then-insert for it, and
   * holds until the caller's transaction ends.
   */
  async insertWithinCap(
    tx: Transaction,
    mail: NewOutboundMail,
    cap: { templates: readonly string[]; max: number; since: Date },
  ): Promise<{ inserted: true } | { inserted: false; oldest: Date }> {
    const address = mail.recipient.toLowerCase();
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`outbound_mails:${address}`}, 0))`);
    const [recent] = await tx
      .select({ n: count(), oldest: min(outboundMails.createdAt) })
      .from(outboundMails)
      .where(
        and(sql`lower(${outboundMails.recipient}) = ${address}`, gte(outboundMails.createdAt, cap.since), inArray(outboundMails.template, [...cap.templates])),
      );
    if (recent && recent.n >= cap.max && recent.oldest) return { inserted: false, oldest: recent.oldest };
    await tx.insert(outboundMails).values(mail);
    return { inserted: true };
  }

  /**
   * Takes up to `limit` due mails for one attempt each, the longest waiting first: the lease runs to
   * `leaseUntil`, so nobody else takes them meanwhile, and the attempt count goes up before the
   * attempt, so a crash mid-send is still counted. SKIP LOCKED: another instance's claim takes the
   * next ones instead of waiting. The locks hold to the end of the caller's transaction.
   */
  async claimDue(tx: Transaction, now: Date, leaseUntil: Date, limit: number): Promise<OutboundMailRow[]> {
    const due = await tx
      .select({ id: outboundMails.id })
      .from(outboundMails)
      .where(and(eq(outboundMails.status, 'PENDING'), lte(outboundMails.nextAttemptAt, now), leaseFree(now)))
      .orderBy(asc(outboundMails.nextAttemptAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (due.length === 0) return [];
    return tx
      .update(outboundMails)
      .set({ leaseUntil, attemptCount: sql`${outboundMails.attemptCount} + 1` })
      .where(
        inArray(
          outboundMails.id,
          due.map((row) => row.id),
        ),
      )
      .returning();
  }

  /** Records an attempt's outcome, only while that attempt still holds its lease; whether it did. */
  async recordAttempt(id: string, lease: Date, next: MailNextState): Promise<boolean> {
    const updated = await this.db
      .update(outboundMails)
      .set({ ...next, leaseUntil: null })
      .where(and(eq(outboundMails.id, id), eq(outboundMails.leaseUntil, lease)))
      .returning({ id: outboundMails.id });
    return updated.length > 0;
  }

  /** Deletes SENT and FAILED mails that ended before `cutoff`; pending ones stay, however old. How many. */
  async purgeCompletedBefore(cutoff: Date): Promise<number> {
    const result = await this.db.delete(outboundMails).where(and(isNotNull(outboundMails.completedAt), lt(outboundMails.completedAt, cutoff)));
    return result.rowCount ?? 0;
  }
}
