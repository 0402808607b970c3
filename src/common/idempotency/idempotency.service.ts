import { createHash, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Clock } from '../clock';
import { SecretBox } from '../crypto/secret-box';
import { DomainError, FieldIssue } from '../errors/domain-error';
import { fieldIssue } from '../errors/field-issues';
import { safeErrorForLog } from '../errors/safe-error';
import { MAX_NESTING_DEPTH } from '../validation/clean-strings';
import { IdempotencyRepository } from './idempotency.repository';
import type { PendingCharge } from '../metering/meter';
import { IdempotencyClaim, IdempotentReplay, StoredReply } from './idempotency.replay';

/** How long a completed response is replayed, and a key stays bound to its request body. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;
/**
 * How long an in-flight claim holds its key. Longer than any request runs (the database's
 * statement timeout and Stripe's client timeout are far shorter); a claim whose process died
 * frees its key once this runs out.
 */
export const IDEMPOTENCY_LEASE_MS = 60_000;
/**
 * The response headers replayed with a stored body; the rest belong to the request that replays,
 * X-Quota-* among them: a replay counts nothing and shows the quota as it stands now.
 */
const REPLAYED_HEADERS = ['content-type', 'content-language', 'location', 'retry-after'];
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** `unclaimed`: the body is one validation refuses (too deep), so there is nothing to claim. */
export type IdempotencyOutcome = { kind: 'claimed'; claim: IdempotencyClaim } | { kind: 'replay'; reply: StoredReply } | { kind: 'unclaimed' };

/**
 * The Idempotency-Key rules: a key is scoped to the caller, method and path; the first completed
 * response is replayed for 24 h; the same key with another body, or while the first is in flight,
 * is refused. 5xx answers and validation failures are not stored.
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly keys: IdempotencyRepository,
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  /**
   * The last step of the route guard on an @Idempotent() route called with Idempotency-Key: claims
   * the key (its response is stored when sent), or answers with the stored response (thrown as an
   * IdempotentReplay, which the route's filter sends). Then the call is counted: a replay shows the
   * quota as it stands and counts nothing, and a key in use or reused (thrown) counts nothing either.
   */
  async admit(request: FastifyRequest, charge: PendingCharge | undefined): Promise<void> {
    const header = request.headers['idempotency-key'];
    if (header === undefined) {
      await charge?.take();
      return;
    }
    const outcome = await this.begin(request, parseIdempotencyKey(header));
    if (outcome.kind === 'replay') {
      await charge?.show();
      throw new IdempotentReplay(outcome.reply);
    }
    if (outcome.kind === 'claimed') request.idempotencyClaim = outcome.claim;
    try {
      await charge?.take();
    } catch (error) {
      // Refused for its quota, the call never ran: the key is freed for a retry once the quota allows.
      if (outcome.kind === 'claimed') outcome.claim.storable = false;
      throw error;
    }
  }

  /** Claims the request's key, or answers with the stored response; throws on misuse. */
  async begin(request: FastifyRequest, key: string): Promise<IdempotencyOutcome> {
    const id = fingerprint(request, key);
    const canonical = canonicalJson(request.body ?? null);
    if (canonical === undefined) return { kind: 'unclaimed' };
    const requestHash = sha256(canonical);
    // A claim can lose a race twice at most: to a row that is then freed (5xx), and to a new claim.
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.clock.now();
      const claimId = randomUUID();
      const claimed = await this.keys.claim(
        {
          id,
          requestHash,
          claimId,
          leaseUntil: new Date(now.getTime() + IDEMPOTENCY_LEASE_MS),
          createdAt: now,
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_RETENTION_MS),
        },
        now,
      );
      if (claimed) return { kind: 'claimed', claim: { id, claimId, storable: true } };
      const existing = await this.keys.find(id);
      if (!existing) continue;
      if (existing.requestHash !== requestHash) throw new DomainError('IDEMPOTENCY_KEY_REUSED');
      if (existing.responseStatus === null || existing.responseBodySealed === null) {
        throw new DomainError('IDEMPOTENCY_KEY_IN_USE', { params: { retryAfter: 1 } });
      }
      return {
        kind: 'replay',
        reply: { status: existing.responseStatus, headers: replayedHeaders(existing.responseHeaders ?? {}), body: this.box.open(existing.responseBodySealed) },
      };
    }
    throw new DomainError('IDEMPOTENCY_KEY_IN_USE', { params: { retryAfter: 1 } });
  }

  /**
   * The response is about to be sent: stored (body sealed) for replay, or, for a 5xx or an input
   * never acted on, the key freed so the client may retry with it. A failure here is logged and
   * the response still sent; the claim then frees when its lease runs out.
   */
  async finish(claim: IdempotencyClaim, status: number, headers: Record<string, unknown>, body: string | undefined): Promise<void> {
    try {
      if (status >= 500 || !claim.storable || body === undefined) {
        await this.keys.release(claim.id, claim.claimId);
        return;
      }
      await this.keys.complete(claim.id, claim.claimId, { status, headers: replayedHeaders(headers), bodySealed: this.box.seal(body) });
    } catch (error) {
      this.logger.error({ err: safeErrorForLog(error) }, 'Could not store an idempotent response');
    }
  }
}

/** The headers a replay carries (a response stored before X-Quota-* stopped being kept may hold them). */
function replayedHeaders(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(REPLAYED_HEADERS.filter((name) => headers[name] !== undefined).map((name) => [name, String(headers[name])]));
}

/** The header's value, or a 400 naming it: 1 to 255 printable ASCII characters. */
export function parseIdempotencyKey(value: string | string[]): string {
  const key = Array.isArray(value) ? value.join(', ') : value;
  if (KEY_PATTERN.test(key)) return key;
  const issue: FieldIssue =
    key.length === 0
      ? fieldIssue('Idempotency-Key', 'TOO_SMALL', { fallback: 'Must be at least 1' }, { minimum: 1 })
      : key.length > 255
        ? fieldIssue('Idempotency-Key', 'TOO_BIG', { fallback: 'Must be at most 255' }, { maximum: 255 })
        : fieldIssue('Idempotency-Key', 'INVALID_FORMAT', { fallback: 'Invalid format' });
  throw new DomainError('IDEMPOTENCY_KEY_INVALID', { errors: [issue] });
}

/** Whose key it is: the user or API key calling, or the client's address on a public route. */
function scopeOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (!principal) return `ip:${request.ip}`;
  return principal.kind === 'apiKey' ? `key:${principal.apiKeyId}` : `user:${principal.userId}`;
}

function fingerprint(request: FastifyRequest, key: string): string {
  const path = request.url.split('?', 1)[0] ?? request.url;
  return sha256(JSON.stringify([scopeOf(request), request.method, path, key]));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * JSON with every object's keys sorted, so the same body in another key order hashes the same;
 * undefined for a body nested deeper than the validation pipe accepts (it refuses that body).
 */
export function canonicalJson(value: unknown, depth = 0): string | undefined {
  if (depth > MAX_NESTING_DEPTH) return undefined;
  const nested = (inner: unknown) => canonicalJson(inner, depth + 1);
  if (Array.isArray(value)) {
    const items = value.map(nested);
    return items.includes(undefined) ? undefined : `[${items.join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    const items = keys.map((key) => nested((value as Record<string, unknown>)[key]));
    return items.includes(undefined) ? undefined : `{${keys.map((key, i) => `${JSON.stringify(key)}:${items[i]}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
