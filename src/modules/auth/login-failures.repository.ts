import { Inject, Injectable } from '@nestjs/common';
import { eq, inArray, lt, or, sql } from 'drizzle-orm';
import { Database, DB } from '../../db/database';
import { loginFailures } from '../../db/schema';

export interface AttemptCount {
  key: string;
  failures: number;
  windowEndsAt: Date;
}

/** The counter of an email from any IP, and that of an email from one IP. Emails are lowercased. */
export const emailKey = (email: string) => `email:${email}`;
export const emailIpKey = (email: string, ip: string) => `email-ip:${email}|${ip}`;

@Injectable()
export class LoginFailuresRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  /**
   * Counts an attempt under each key before the password is checked, in one atomic upsert, so
   * concurrent attempts cannot slip past the limit. Each key has a fixed window that starts with
   * its first attempt; a success clears the keys again.
   */
  async countAttempt(keys: string[], windowSeconds: number, now: Date): Promise<AttemptCount[]> {
    const windowEndsAt = new Date(now.getTime() + windowSeconds * 1000);
    const open = sql`${loginFailures.windowEndsAt} > ${now.toISOString()}::timestamptz`;
    return this.db
      .insert(loginFailures)
      .values(keys.map((key) => ({ key, failures: 1, windowEndsAt })))
      .onConflictDoUpdate({
        target: loginFailures.key,
        set: {
          failures: sql`CASE WHEN ${open} THEN ${loginFailures.failures} + 1 ELSE 1 END`,
          windowEndsAt: sql`CASE WHEN ${open} THEN ${loginFailures.windowEndsAt} ELSE excluded.window_ends_at END`,
        },
      })
      .returning({ key: loginFailures.key, failures: loginFailures.failures, windowEndsAt: loginFailures.windowEndsAt });
  }

  /** Drops windows that have ended; they would be reset on their next use anyway. */
  async pruneEnded(now: Date): Promise<number> {
    const result = await this.db.delete(loginFailures).where(lt(loginFailures.windowEndsAt, now));
    return result.rowCount ?? 0;
  }

  async clear(keys: string[]): Promise<void> {
    await this.db.delete(loginFailures).where(inArray(loginFailures.key, keys));
  }

  /** Clears every counter of an email: its own and those of each IP it was tried from. */
  async clearEmail(email: string): Promise<void> {
    const perIp = emailIpKey(email, '');
    await this.db.delete(loginFailures).where(or(eq(loginFailures.key, emailKey(email)), sql`starts_with(${loginFailures.key}, ${perIp})`));
  }
}
