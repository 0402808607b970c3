import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { newId } from '../../lib/ids';
import { Database, DB, Transaction } from '../../db/database';
import { apiKeyAuditLog, apiKeyUsage } from '../../db/schema';
import { ApiKeysRepository } from './api-keys.repository';

export type UsageRow = typeof apiKeyUsage.$inferSelect;
export type AuditRow = typeof apiKeyAuditLog.$inferSelect;
export type NewAuditRow = typeof apiKeyAuditLog.$inferInsert;

const AUDIT_INSERT_CHUNK = 5_000;

/** One array parameter of a column of `rows`, for a statement that reads them through unnest. */
const columnOf = <Row, T>(rows: Row[], pick: (row: Row) => T) => sql.param(rows.map(pick));

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

  /**
   * Each part of writeBatch is also written alone (a transaction each), to set aside rows the
   * database refuses. Both are one statement per batch, whatever its size: a column per parameter
   * (arrays through unnest). Built by drizzle as a row of values each, the flushes were a large
   * share of a metered request's CPU (`npm run bench`, a CPU profile of getAll).
   */
  async writeUsage(tx: Transaction, usage: UsageRow[]): Promise<void> {
    if (usage.length === 0) return;
    const column = <T>(pick: (row: UsageRow) => T) => columnOf(usage, pick);
    // A histogram travels as its array literal: unnest would flatten an array of arrays.
    await tx.execute(sql`
      INSERT INTO ${apiKeyUsage} (key_id, hour, request_count, client_error_count, server_error_count, latency_histogram)
      SELECT key_id, hour, request_count, client_error_count, server_error_count, latency_histogram::int[]
        FROM unnest(
          ${column((row) => row.keyId)}::text[], ${column((row) => row.hour.toISOString())}::timestamptz[],
          ${column((row) => row.requestCount)}::int[], ${column((row) => row.clientErrorCount)}::int[],
          ${column((row) => row.serverErrorCount)}::int[], ${column((row) => `{${row.latencyHistogram.join(',')}}`)}::text[]
        ) AS r(key_id, hour, request_count, client_error_count, server_error_count, latency_histogram)
      ON CONFLICT (key_id, hour) DO UPDATE SET
        request_count = ${apiKeyUsage.requestCount} + excluded.request_count,
        client_error_count = ${apiKeyUsage.clientErrorCount} + excluded.client_error_count,
        server_error_count = ${apiKeyUsage.serverErrorCount} + excluded.server_error_count,
        latency_histogram = (SELECT array_agg(a + b ORDER BY i) FROM unnest(${apiKeyUsage.latencyHistogram}, excluded.latency_histogram) WITH ORDINALITY AS h(a, b, i))`);
  }

  async writeAudit(tx: Transaction, audit: NewAuditRow[]): Promise<void> {
    for (let start = 0; start < audit.length; start += AUDIT_INSERT_CHUNK) {
      const chunk = audit.slice(start, start + AUDIT_INSERT_CHUNK);
      const column = <T>(pick: (row: NewAuditRow) => T) => columnOf(chunk, pick);
      await tx.execute(sql`
        INSERT INTO ${apiKeyAuditLog} (id, key_id, at, method, route, status, latency_ms, ip, user_agent, request_id)
        SELECT * FROM unnest(
          ${column((row) => row.id ?? newId('aud'))}::text[], ${column((row) => row.keyId)}::text[], ${column((row) => row.at.toISOString())}::timestamptz[],
          ${column((row) => row.method)}::text[], ${column((row) => row.route)}::text[], ${column((row) => row.status)}::int[],
          ${column((row) => row.latencyMs)}::int[], ${column((row) => row.ip)}::text[], ${column((row) => row.userAgent ?? null)}::text[],
          ${column((row) => row.requestId)}::text[]
        )`);
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
