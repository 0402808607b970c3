import { Injectable } from '@nestjs/common';
import { ownerScope, Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { invalidField } from '../../common/errors/field-issues';
import { iso, isoOrNull } from '../../common/iso';
import { toPage } from '../../common/pagination';
import { ApiKeyRequest, ApiKeyUsageRecorder, LATENCY_BUCKETS_MS } from './api-key-usage.recorder';
import { ApiKeyUsageRepository, UsageRow } from './api-key-usage.repository';
import { toAuditEntryView } from './api-keys.mapper';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeyAuditQueryDto, ApiKeyUsageQueryDto } from './api-keys.schemas';

const MAX_RANGE_MS = 366 * 86_400_000;

@Injectable()
export class ApiKeyUsageService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly usage: ApiKeyUsageRepository,
    private readonly recorder: ApiKeyUsageRecorder,
    private readonly clock: Clock,
  ) {}

  /** Counts a request made with a key that did not reach Gatehouse's own routes (an access check a vendor made for it); batched, never awaited. */
  record(request: ApiKeyRequest): void {
    this.recorder.record(request);
  }

  async usageOf(principal: Principal, id: string, query: ApiKeyUsageQueryDto) {
    const key = await this.ownedKey(principal, id);
    const to = query.to ? new Date(query.to) : this.clock.now();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 86_400_000);
    // The schema compares from and to when both are given; a lone `from` is compared with now here.
    if (from.getTime() >= to.getTime()) {
      throw invalidField('from', 'INVALID_VALUE', { literal: 'from must be before to' });
    }
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
      throw invalidField('from', 'TOO_BIG', { fallback: 'The range may span at most 366 days' });
    }
    const rows = await this.usage.usageBetween(key.id, floorTo('hour', from), to);
    const buckets = new Map<number, UsageRow>();
    for (const row of rows) {
      const start = floorTo(query.granularity, row.hour).getTime();
      const bucket = buckets.get(start);
      if (!bucket) buckets.set(start, { ...row, latencyHistogram: [...row.latencyHistogram] });
      else {
        bucket.requestCount += row.requestCount;
        bucket.clientErrorCount += row.clientErrorCount;
        bucket.serverErrorCount += row.serverErrorCount;
        row.latencyHistogram.forEach((count, i) => (bucket.latencyHistogram[i] = (bucket.latencyHistogram[i] ?? 0) + count));
      }
    }
    return {
      keyId: key.id,
      granularity: query.granularity,
      lastUsedAt: isoOrNull(key.lastUsedAt),
      buckets: [...buckets.entries()].map(([start, row]) => ({
        start: iso(new Date(start)),
        requestCount: row.requestCount,
        clientErrorCount: row.clientErrorCount,
        serverErrorCount: row.serverErrorCount,
        errorRate: row.requestCount === 0 ? 0 : (row.clientErrorCount + row.serverErrorCount) / row.requestCount,
        p95LatencyMs: percentile(row.latencyHistogram, 0.95),
      })),
    };
  }

  async auditLogOf(principal: Principal, id: string, query: ApiKeyAuditQueryDto) {
    const key = await this.ownedKey(principal, id);
    const page = toPage(await this.usage.auditPage(key.id, query.cursor, query.limit), query.limit);
    return { items: page.items.map(toAuditEntryView), nextCursor: page.nextCursor };
  }

  private async ownedKey(principal: Principal, id: string) {
    const key = await this.keys.findOwned(ownerScope(principal), id);
    if (!key) throw new DomainError('NOT_FOUND');
    return key;
  }
}

function floorTo(granularity: 'hour' | 'day', date: Date): Date {
  const unit = granularity === 'hour' ? 3_600_000 : 86_400_000;
  return new Date(Math.floor(date.getTime() / unit) * unit);
}

/** The histogram bucket bound under which `fraction` of requests fall; the overflow slot reports the last bound. */
export function percentile(histogram: number[], fraction: number): number | null {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= Math.ceil(total * fraction)) return LATENCY_BUCKETS_MS[Math.min(i, LATENCY_BUCKETS_MS.length - 1)]!;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
}
