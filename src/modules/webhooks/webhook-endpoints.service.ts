import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { ownerScope, Principal } from '../../common/auth/principal';
import { TtlCache } from '../../common/cache/ttl-cache';
import { Clock } from '../../common/clock';
import { SecretBox } from '../../common/crypto/secret-box';
import { DomainError } from '../../common/errors/domain-error';
import { invalidField } from '../../common/errors/field-issues';
import { DomainEvents } from '../../common/events';
import { toPage } from '../../common/pagination';
import { AppConfig, InjectConfig } from '../../config/config';
import { WEBHOOK_ENDPOINT_LIMITS } from '../../db/schema/webhooks';
import { TransactionRunner } from '../../db/transaction';
import { WEBHOOK_EVENTS } from '../outbox/outbox.events';
import { toWebhookEndpointView } from './webhook-endpoints.mapper';
import { WebhookEndpointChanges, WebhookEndpointRow, WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookEndpointCreateDto, WebhookEndpointListQueryDto, WebhookEndpointUpdateDto, WebhookEventTypeView } from './webhook-endpoints.schemas';
import { checkWebhookUrl } from './webhook-url';

/** How long a rotated-away secret keeps signing, so receivers can roll the new one out. */
export const SECRET_ROTATION_GRACE_MS = 24 * 3600 * 1000;

/**
 * Opened signing secrets are kept this long after they were opened (then dropped from memory, used
 * or not), and for this many endpoints at most (the least recently used goes first). A sealed value
 * always opens to the same secret, so no entry can go stale: the bounds only limit how long a
 * plaintext secret stays in this process's memory. A deleted endpoint's entries go at once on the
 * instance that deleted it, and within that time on the others.
 */
const OPENED_SECRET_TTL_MS = 15 * 60 * 1000;
const OPENED_SECRETS_MAX = 1_000;

/** Derived once from the zod schemas the outbox appends with, so the published schemas cannot drift. */
const EVENT_TYPES: WebhookEventTypeView[] = Object.entries(WEBHOOK_EVENTS).map(([type, schema]) => ({
  type,
  description: schema.meta()?.description ?? type,
  schema: z.toJSONSchema(schema, { target: 'draft-2020-12' }),
}));

@Injectable()
export class WebhookEndpointsService {
  /**
   * Signing secrets already opened, by endpoint id and sealed value: opening one (AES-GCM) for every
   * attempt was a measurable share of a delivery's CPU. A rotation seals a new value, so the new
   * secret signs at once without any invalidation. Memory only: never logged, never stored.
   */
  private readonly opened: TtlCache<string, string>;

  constructor(
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly transactions: TransactionRunner,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly events: DomainEvents,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.opened = new TtlCache(clock, { ttlMs: OPENED_SECRET_TTL_MS, maxEntries: OPENED_SECRETS_MAX, dropWhenStale: true });
  }

  async create(principal: Principal, dto: WebhookEndpointCreateDto) {
    // Only an ADMIN's endpoint may hear every user's events (an admin-scope key of one counts).
    if (dto.scope === 'all' && principal.role !== 'ADMIN') throw new DomainError('FORBIDDEN');
    const url = this.checkedUrl(dto.url);
    const secret = newSigningSecret();
    // Each endpoint is a copy of every event it hears and a share of the dispatcher: a user's are
    // bounded, counted under a lock so concurrent creates cannot overshoot together. An ADMIN's are not.
    const row = await this.transactions.run(async (tx) => {
      if (principal.role !== 'ADMIN') {
        await this.endpoints.lockOwner(tx, principal.userId);
        if ((await this.endpoints.countOwned(tx, principal.userId)) >= this.config.webhooks.maxEndpointsPerUser) {
          throw new DomainError('WEBHOOK_ENDPOINT_LIMIT_REACHED');
        }
      }
      return this.endpoints.insert(tx, {
        ownerId: principal.userId,
        scope: dto.scope,
        url,
        events: dto.events,
        description: dto.description || null,
        secretSealed: this.secrets.seal(secret),
      });
    });
    this.events.emit('webhook-endpoints.changed', { endpointId: row.id });
    return { ...toWebhookEndpointView(row), secret };
  }

  async list(principal: Principal, query: WebhookEndpointListQueryDto) {
    // An ADMIN may narrow the list to one owner; anyone else sees only their own.
    const scope = ownerScope(principal, query.ownerId);
    const page = toPage(await this.endpoints.list(scope, { cursor: query.cursor, limit: query.limit }), query.limit);
    return { items: page.items.map(toWebhookEndpointView), nextCursor: page.nextCursor };
  }

  async get(principal: Principal, id: string) {
    return toWebhookEndpointView(found(await this.endpoints.findOwned(ownerScope(principal), id)));
  }

  async update(principal: Principal, id: string, dto: WebhookEndpointUpdateDto) {
    const changes: WebhookEndpointChanges = {};
    if (dto.url !== undefined) changes.url = this.checkedUrl(dto.url);
    if (dto.events !== undefined) changes.events = dto.events;
    if (dto.description !== undefined) changes.description = dto.description || null;
    if (dto.enabled !== undefined) {
      Object.assign(
        changes,
        // Enabled again: its failing streak starts over, or the next failure would switch it off at once.
        dto.enabled
          ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null }
          : { enabled: false, disabledReason: 'OWNER', disabledAt: this.clock.now() },
      );
    }
    const scope = ownerScope(principal);
    const row = Object.keys(changes).length > 0 ? await this.endpoints.update(scope, id, changes) : await this.endpoints.findOwned(scope, id);
    if (Object.keys(changes).length > 0) this.events.emit('webhook-endpoints.changed', { endpointId: id });
    return toWebhookEndpointView(found(row));
  }

  async remove(principal: Principal, id: string): Promise<void> {
    if (!(await this.endpoints.delete(ownerScope(principal), id))) throw new DomainError('NOT_FOUND');
    this.opened.forgetWhere((_, key) => key.startsWith(`${id} `));
    this.events.emit('webhook-endpoints.changed', { endpointId: id });
  }

  /** A new secret, shown once; the one it replaces keeps signing for SECRET_ROTATION_GRACE_MS. */
  async rotateSecret(principal: Principal, id: string) {
    const secret = newSigningSecret();
    const previousSecretExpiresAt = new Date(this.clock.now().getTime() + SECRET_ROTATION_GRACE_MS);
    found(await this.endpoints.rotateSecret(ownerScope(principal), id, this.secrets.seal(secret), previousSecretExpiresAt));
    return { secret, previousSecretExpiresAt: previousSecretExpiresAt.toISOString() };
  }

  eventTypes() {
    return { items: EVENT_TYPES };
  }

  /**
   * The secrets a delivery to this endpoint signs with, newest first: the current one, and during
   * a rotation's grace period the previous one too.
   */
  signingSecrets(endpoint: Pick<WebhookEndpointRow, 'id' | 'secretSealed' | 'previousSecretSealed' | 'previousSecretExpiresAt'>): string[] {
    const { id, secretSealed, previousSecretSealed, previousSecretExpiresAt } = endpoint;
    const current = this.openSecret(id, secretSealed);
    const previousLive = previousSecretSealed && previousSecretExpiresAt && previousSecretExpiresAt > this.clock.now();
    return previousLive ? [current, this.openSecret(id, previousSecretSealed)] : [current];
  }

  /** The endpoint's sealed secret opened, from `opened` when it was opened before; a value that does not open is not kept. */
  private openSecret(endpointId: string, sealed: string): string {
    const key = `${endpointId} ${sealed}`;
    const cached = this.opened.peek(key);
    if (cached) return cached.value;
    const secret = this.secrets.open(sealed);
    this.opened.set(key, secret);
    return secret;
  }

  /** The URL as parsed (normalised, so it may grow: an IDN host becomes punycode), or a 422 on `url` with the reason. */
  private checkedUrl(raw: string): string {
    const check = checkWebhookUrl(raw, this.config.webhooks);
    if (!check.ok) throw invalidUrl(check.reason);
    if (check.url.href.length > WEBHOOK_ENDPOINT_LIMITS.url) throw invalidUrl(`Longer than ${WEBHOOK_ENDPOINT_LIMITS.url} characters`);
    return check.url.href;
  }
}

/** `whsec_` and 32 random bytes in base64, the Standard Webhooks form (receivers base64-decode it to the HMAC key). */
const newSigningSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

function found(row: WebhookEndpointRow | undefined): WebhookEndpointRow {
  if (!row) throw new DomainError('NOT_FOUND');
  return row;
}

const invalidUrl = (reason: string) => invalidField('url', 'INVALID_VALUE', { literal: reason });
