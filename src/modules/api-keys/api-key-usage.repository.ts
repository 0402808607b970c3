import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { Database, DB, Transaction } from '../../db/database';
import { apiKeyAuditLog, apiKeyUsage } from '../../db/schema';
import { ApiKeysRepository } from './api-keys.repository';

export type UsageRow = typeof apiKeyUsage.$inferSelect;
export type AuditRow = typeof apiKeyAuditLog.$inferSelect;
export type NewAuditRow = typeof apiKeyAuditLog.$inferInsert;

const AUDIT_INSERT_CHUNK = 1_000;

@Injectable()
export class ApiKeyUsageRepository {
  constructor(
    @Inject(DB) private readonly db: Database,
    private readonly keys: ApiKeysRepository,
  ) {}

  /** A whole flush, in the caller's one transaction: usage counters added, audit rows appended, last-used times advanced. */
  async writeBatch(tx: Transaction, usage: UsageRow[], audit: NewAuditRow[], lastUsed: Map<string, Date>): Promise<void> {
    await this.writeUsage(tx, usage);
    await this.writeAudit(tx, audit);
    await this.writeLastUsed(tx, lastUsed);
  }

  /** Each part of writeBatch is also written alone (a transaction each), to set aside rows the database refuses. */
  async writeUsage(tx: Transaction, usage: UsageRow[]): Promise<void> {
    if (usage.length === 0) return;
    await tx
      .insert(apiKeyUsage)
      .values(usage)
      .onConflictDoUpdate({
        target: [apiKeyUsage.keyId, apiKeyUsage.hour],
        set: {
          requestCount: sql`${apiKeyUsage.requestCount} + excluded.request_count`,
          clientErrorCount: sql`${apiKeyUsage.clientErrorCount} + excluded.client_error_count`,
          serverErrorCount: sql`${apiKeyUsage.serverErrorCount} + excluded.server_error_count`,
          latencyHistogram: sql`(SELECT array_agg(a + b ORDER BY i) FROM unnest(${apiKeyUsage.latencyHistogram}, excluded.latency_histogram) WITH ORDINALITY AS h(a, b, i))`,
        },
      });
  }

  async writeAudit(tx: Transaction, audit: NewAuditRow[]): Promise<void> {
    for (let start = 0; start < audit.length; start += AUDIT_INSERT_CHUNK) {
      await tx.insert(apiKeyAuditLog).values(audit.slice(start, start + AUDIT_INSERT_CHUNK));
    }
  }

  writeLastUsed(tx: Transaction, lastUsed: Map<string, Date>): Promise<void> {
    return this.keys.advanceLastUsed(tx, lastUsed);
  }

  usageBetween(keyId: string, from: Date, to: Date): Promise<UsageRow[]> {
    return this.db
      .select()
      .from(apiKeyUsage)
      .where(and(eq(apiKeyUsage.keyId, keyId), gte(apiKeyUsage.hour, from), lt(apiKeyUsage.hour, to)))
      .orderBy(apiKeyUsage.hour);
  }

  /** Newest first; `cursor` is the last id of the previous page. */
  auditPage(keyId: string, cursor: string | undefined, limit: number): Promise<AuditRow[]> {
    return this.db
      .select()
      .from(apiKeyAuditLog)
      .where(and(eq(apiKeyAuditLog.keyId, keyId), cursor ? lt(apiKeyAuditLog.id, cursor) : undefined))
      .orderBy(desc(apiKeyAuditLog.id))
      .limit(limit + 1);
  }

  async purgeAuditOlderThan(cutoff: Date): Promise<number> {
    const result = await this.db.delete(apiKeyAuditLog).where(lt(apiKeyAuditLog.at, cutoff));
    return result.rowCount ?? 0;
  }
}
