import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerOf } from '../../common/auth/api-key-verifier';
import { verifiedApiKey } from '../../common/auth/request-credentials';
import { BackgroundTasks } from '../../common/background';
import { BatchWriter } from '../../common/batch-writer';
import { Clock } from '../../common/clock';
import { pgErrorCode } from '../../common/errors/classify-error';
import { DomainError } from '../../common/errors/domain-error';
import { safeErrorForLog } from '../../common/errors/safe-error';
import { newId } from '../../lib/ids';
import { AppConfig, InjectConfig } from '../../config/config';
import { TransactionRunner } from '../../db/transaction';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeyUsageRepository, NewAuditRow, UsageRow } from './api-key-usage.repository';

/** Upper bounds (ms) of the latency histogram; one more slot counts everything slower. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000] as const;
/** Counters and audit rows reach the database this often (and once more on graceful shutdown). */
export const USAGE_FLUSH_INTERVAL_MS = 2_000;
/** While the database is unreachable, audit rows wait in memory up to this many; older ones are dropped. */
export const MAX_PENDING_AUDIT_ROWS = 100_000;
/**
 * The methods an audit row names; any other (UNSUBSCRIBE, PROPFIND…) is OTHER, so it always fits
 * the column. VERIFY is an access check a vendor made for the key through /v1/access/verify.
 */
const AUDITED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'VERIFY']);

export const auditedMethod = (method: string): string => (AUDITED_METHODS.has(method) ? method : 'OTHER');

/**
 * A row the database refuses on its own merits (SQLSTATE class 22, data exception, or 23,
 * integrity violation: say its key was deleted meanwhile). Writing it again can never succeed.
 * Anything else (unreachable, timeouts) may pass later, so those rows are kept.
 */
const isRefusedRow = (error: unknown): boolean => /^2[23]/.test(pgErrorCode(error) ?? '');

const slotOf = (keyId: string, hour: Date) => `${keyId}|${hour.getTime()}`;

type Part = 'usage' | 'audit' | 'lastUsed';

/** What waits for the next flush: counters by key and hour, audit rows, and each key's last use. */
interface UsageBatch {
  usage: Map<string, UsageRow>;
  audit: NewAuditRow[];
  lastUsed: Map<string, Date>;
}

/** Past this many audit rows waiting, a flush starts before its interval is up. */
const FLUSH_AT_AUDIT_ROWS = 10_000;

export interface ApiKeyRequest {
  keyId: string;
  at: Date;
  method: string;
  route: string;
  status: number;
  latencyMs: number;
  ip: string;
  userAgent: string | undefined;
  requestId: string;
}

/**
 * Aggregates per-key usage in memory and writes it in batches: no database write on the request
 * path. Every key (test keys too) also gets one audit row per request, batched the same way.
 */
@Injectable()
export class ApiKeyUsageRecorder implements OnModuleInit {
  private readonly writer: BatchWriter<UsageBatch>;
  private readonly logger = new Logger('ApiKeyUsage');
  /** Rows dropped since start: refused by the database (see isRefusedRow), or audit rows past MAX_PENDING_AUDIT_ROWS during an outage. */
  readonly dropped: Record<Part, number> = { usage: 0, audit: 0, lastUsed: 0 };

  constructor(
    private readonly repository: ApiKeyUsageRepository,
    private readonly transactions: TransactionRunner,
    private readonly background: BackgroundTasks,
    private readonly adapterHost: HttpAdapterHost,
    private readonly keys: ApiKeyAuthenticator,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.writer = new BatchWriter<UsageBatch>(background, {
      name: 'API key usage',
      intervalMs: USAGE_FLUSH_INTERVAL_MS,
      flushAtSize: FLUSH_AT_AUDIT_ROWS,
      empty: () => ({ usage: new Map(), audit: [], lastUsed: new Map() }),
      size: (batch) => batch.usage.size + batch.audit.length,
      // One transaction per flush.
      write: ({ usage, audit, lastUsed }) => this.transactions.run((tx) => this.repository.writeBatch(tx, [...usage.values()], audit, lastUsed)),
      recover: (error, batch) => (isRefusedRow(error) ? this.writeApart(batch) : undefined),
      restore: (kept, current) => this.restore(kept, current),
      describe: (batch) => `${batch.audit.length} audit rows and ${batch.usage.size} usage counters`,
    });
  }

  onModuleInit() {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Synchronous unless an API key must still be looked up (a call refused before authentication):
    // most answers pass this hook without a promise.
    fastify.addHook('onResponse', (request, reply, done) => {
      const principal = request.principal;
      if (principal) {
        if (principal.kind === 'apiKey') this.recordAnswer(principal.apiKeyId, request, reply);
        return done();
      }
      const bearer = bearerOf(request.headers.authorization);
      if (!bearer || !this.keys.isApiKey(bearer)) return done();
      void this.keyOf(bearer, request)
        .then((keyId) => keyId && this.recordAnswer(keyId, request, reply))
        .catch((error: unknown) => this.logger.warn({ err: safeErrorForLog(error) }, 'API key usage of a refused call not recorded'))
        .finally(() => done());
    });
    this.writer.start();
  }

  /**
   * The key of a request the route guard never authenticated (refused by the rate limiter, or a body
   * Fastify rejected before routing): still a request made with that key, so it is counted. The
   * rate limiter's verification, when it made one, is reused. A key refused (unknown, revoked,
   * expired) is not counted; a key that could not be looked up (the database is down) is counted
   * when this instance has seen it before, else it cannot be told from a made-up one.
   */
  private recordAnswer(keyId: string, request: FastifyRequest, reply: FastifyReply): void {
    this.record({
      keyId,
      at: this.clock.now(),
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0] ?? '/',
      status: reply.statusCode,
      latencyMs: Math.round(reply.elapsedTime),
      ip: request.ip,
      userAgent: request.headers['user-agent']?.slice(0, 512),
      requestId: String(request.id),
    });
  }

  /** The key an unauthenticated call presented, when it is one of ours (its verification is cached). */
  private async keyOf(bearer: string, request: FastifyRequest): Promise<string | undefined> {
    try {
      return (await verifiedApiKey(request, this.keys, bearer)).apiKeyId;
    } catch (error) {
      return error instanceof DomainError ? undefined : this.keys.cachedKeyId(bearer);
    }
  }

  record(event: ApiKeyRequest): void {
    const batch = this.writer.batch;
    const hour = new Date(Math.floor(event.at.getTime() / 3_600_000) * 3_600_000);
    const slot = slotOf(event.keyId, hour);
    let row = batch.usage.get(slot);
    if (!row) {
      row = {
        keyId: event.keyId,
        hour,
        requestCount: 0,
        clientErrorCount: 0,
        serverErrorCount: 0,
        latencyHistogram: Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
      };
      batch.usage.set(slot, row);
    }
    row.requestCount++;
    if (event.status >= 400 && event.status < 500) row.clientErrorCount++;
    if (event.status >= 500) row.serverErrorCount++;
    const bucket = LATENCY_BUCKETS_MS.findIndex((bound) => event.latencyMs <= bound);
    row.latencyHistogram[bucket === -1 ? LATENCY_BUCKETS_MS.length : bucket]!++;
    const seen = batch.lastUsed.get(event.keyId);
    if (!seen || seen < event.at) batch.lastUsed.set(event.keyId, event.at);
    const { keyId, at, method, route, status, latencyMs, ip, userAgent, requestId } = event;
    batch.audit.push({ id: newId('aud'), keyId, at, method: auditedMethod(method), route: route.slice(0, 300), status, latencyMs, ip, userAgent, requestId });
    this.writer.added();
  }

  /**
   * Writes what has accumulated; flushes never overlap. A batch that fails is kept for the next
   * flush, except rows the database refuses on their own: those are set aside (see writeApart).
   */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /**
   * One bad row must not hold back every tenant's rows forever: writes each part alone, halving a
   * failing group until the refused rows stand alone (a few statements for one bad row among
   * thousands), and drops and counts only those. What the database could not take because it
   * became unreachable meanwhile is kept for the next flush.
   */
  private async writeApart({ usage: usageBySlot, audit, lastUsed }: UsageBatch): Promise<UsageBatch> {
    const usage = [...usageBySlot.values()];
    const refused: unknown[] = [];
    // Each group all or nothing, in a transaction of its own.
    const keptUsage = await this.isolate('usage', usage, (rows) => this.transactions.run((tx) => this.repository.writeUsage(tx, rows)), refused);
    const keptAudit = await this.isolate('audit', audit, (rows) => this.transactions.run((tx) => this.repository.writeAudit(tx, rows)), refused);
    const keptLastUsed = await this.isolate(
      'lastUsed',
      [...lastUsed],
      (rows) => this.transactions.run((tx) => this.repository.writeLastUsed(tx, new Map(rows))),
      refused,
    );
    if (refused.length > 0) {
      this.logger.warn(
        { err: safeErrorForLog(refused[0]), dropped: refused.length, droppedSinceStart: this.dropped },
        'Dropped usage or audit rows the database refuses; wrote the rest of the batch',
      );
    }
    return { usage: new Map(keptUsage.map((row) => [slotOf(row.keyId, row.hour), row])), audit: keptAudit, lastUsed: new Map(keptLastUsed) };
  }

  /** Writes `rows`, bisecting on refusal; returns the rows to keep for later. */
  private async isolate<T>(part: Part, rows: T[], write: (rows: T[]) => Promise<void>, refused: unknown[]): Promise<T[]> {
    if (rows.length === 0) return [];
    try {
      await write(rows);
      return [];
    } catch (error) {
      if (!isRefusedRow(error)) return rows;
      if (rows.length === 1) {
        this.dropped[part]++;
        refused.push(error);
        return [];
      }
      const half = Math.ceil(rows.length / 2);
      const kept = await this.isolate(part, rows.slice(0, half), write, refused);
      return [...kept, ...(await this.isolate(part, rows.slice(half), write, refused))];
    }
  }

  /** Puts a batch that could not be written back into `current`, oldest audit rows first, bounded. */
  private restore({ usage, audit, lastUsed }: UsageBatch, current: UsageBatch): void {
    for (const [slot, old] of usage) {
      const row = current.usage.get(slot);
      if (!row) current.usage.set(slot, old);
      else {
        row.requestCount += old.requestCount;
        row.clientErrorCount += old.clientErrorCount;
        row.serverErrorCount += old.serverErrorCount;
        old.latencyHistogram.forEach((count, i) => (row.latencyHistogram[i]! += count));
      }
    }
    const pending = [...audit, ...current.audit];
    const overflow = pending.length - MAX_PENDING_AUDIT_ROWS;
    if (overflow > 0) {
      this.dropped.audit += overflow;
      this.logger.warn({ dropped: overflow, droppedSinceStart: this.dropped }, 'Too many audit rows wait for the database; dropped the oldest');
    }
    current.audit = pending.slice(-MAX_PENDING_AUDIT_ROWS);
    for (const [keyId, at] of lastUsed) if (!current.lastUsed.has(keyId)) current.lastUsed.set(keyId, at);
  }
}
