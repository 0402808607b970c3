import { Injectable } from '@nestjs/common';
import { ownerScope, Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { sha256 } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { invalidField } from '../../common/errors/field-issues';
import { toPage } from '../../common/pagination';
import { AppConfig, InjectConfig } from '../../config/config';
import { isLiveKey } from '../../db/schema';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeyEnvironment, displayParts, generateApiKey } from './api-key-format';
import { toApiKeyView } from './api-keys.mapper';
import { ApiKeyRow, ApiKeysRepository } from './api-keys.repository';
import { ApiKeyCreateDto, ApiKeyListQueryDto } from './api-keys.schemas';
import type { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly keys: ApiKeysRepository,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async create(principal: Principal, dto: ApiKeyCreateDto) {
    assertMayManageKeys(principal);
    assertMayHandleScope(principal, dto.scope);
    const now = this.clock.now();
    const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    if (expiresAt && expiresAt <= now) {
      throw invalidField('expiresAt', 'INVALID_VALUE', { fallback: 'Must be in the future' });
    }
    const { key, fields } = this.newKey(dto.environment);
    // Under a lock on the owner row, so one owner's concurrent creates cannot overshoot the cap together.
    const row = await this.transactions.run(async (tx) => {
      await this.keys.lockOwner(tx, principal.userId);
      const actingKeyId = actingKeyOf(principal);
      if (actingKeyId) assertActorLive(await this.keys.lockShared(tx, actingKeyId), now);
      if ((await this.keys.countUnexpired(tx, principal.userId, now)) >= this.config.apiKeys.maxPerUser) throw new DomainError('API_KEY_LIMIT_REACHED');
      return this.keys.insert(tx, {
        ownerId: principal.userId,
        name: dto.name,
        scope: dto.scope,
        environment: dto.environment,
        expiresAt,
        ...parentOf(principal),
        ...fields,
      });
    });
    return { ...toApiKeyView(row), key };
  }

  async list(principal: Principal, query: ApiKeyListQueryDto) {
    // An ADMIN may narrow the list to one owner; anyone else sees only their own.
    const scope = ownerScope(principal, query.ownerId);
    const page = toPage(await this.keys.list(scope, { cursor: query.cursor, limit: query.limit }), query.limit);
    return { items: page.items.map(toApiKeyView), nextCursor: page.nextCursor };
  }

  async get(principal: Principal, id: string) {
    const row = await this.keys.findOwned(ownerScope(principal), id);
    if (!row) throw new DomainError('NOT_FOUND');
    return toApiKeyView(row);
  }

  /**
   * A new key with the same name, scope, expiry and parent; the old one works for
   * API_KEY_ROTATION_GRACE, and the one it had replaced stops at once. The old key still counts
   * against API_KEYS_MAX_PER_USER during its grace, so at the cap a rotation is refused as a
   * create is (revoke a key first), under the same lock on the owner.
   */
  async rotate(principal: Principal, id: string) {
    const { ownerId } = await this.assertMayManage(principal, id);
    const now = this.clock.now();
    const graceEndsAt = new Date(now.getTime() + this.config.apiKeys.rotationGraceSeconds * 1000);
    const rotated = await this.transactions.run(async (tx) => {
      await this.keys.lockOwner(tx, ownerId);
      const actingKeyId = actingKeyOf(principal);
      const { key: old, actor } = await this.keys.lockForRotation(tx, ownerScope(principal), id, actingKeyId);
      if (actingKeyId) assertActorLive(actor, now);
      if (!old) throw new DomainError('NOT_FOUND');
      // Only a live key is rotated: at most two keys of a lineage work, the new one and this one.
      if (!isLiveKey(old, now)) throw new DomainError('CONFLICT');
      // The key this one replaced stops now, which frees its place before the count.
      const graceEnded = await this.keys.endGraceOfReplaced(tx, old.id, now);
      if ((await this.keys.countUnexpired(tx, ownerId, now)) >= this.config.apiKeys.maxPerUser) throw new DomainError('API_KEY_LIMIT_REACHED');
      const fresh = this.newKey(old.environment);
      const { name, scope, environment, expiresAt, parentKeyId, parentSessionId } = old;
      const created = await this.keys.insert(tx, { ownerId, name, scope, environment, expiresAt, parentKeyId, parentSessionId, ...fresh.fields });
      await this.keys.markReplaced(tx, old.id, created.id, graceEndsAt);
      return { key: fresh.key, created, changed: [old.id, ...graceEnded] };
    });
    for (const keyId of rotated.changed) this.authenticator.forget(keyId);
    return { ...toApiKeyView(rotated.created), key: rotated.key };
  }

  /**
   * Revokes the key, the keys it replaced, and what any of them created. At once here; other
   * instances notice within the key cache's TTL (5 s).
   */
  async revoke(principal: Principal, id: string): Promise<void> {
    await this.assertMayManage(principal, id);
    const now = this.clock.now();
    const scope = ownerScope(principal);
    const actingKeyId = actingKeyOf(principal);
    const revoked = await this.transactions.run(async (tx) => {
      const locked = await this.keys.lockLineage(tx, scope, id, actingKeyId);
      if (actingKeyId) assertActorLive(await this.keys.findById(tx, actingKeyId), now);
      if (!locked.includes(id)) throw new DomainError('NOT_FOUND');
      return this.keys.revokeLineage(tx, scope, id, now);
    });
    for (const keyId of revoked) this.authenticator.forget(keyId);
  }

  /**
   * Every key of the owner revoked in the caller's transaction (its account was reclaimed by the
   * email's proven owner). Returns the ids; the caller announces them once it has committed.
   */
  revokeAllOf(tx: Transaction, ownerId: string, now: Date): Promise<string[]> {
    return this.keys.revokeAllOf(tx, ownerId, now);
  }

  /**
   * The keys a leaked login (refresh-token family `sessionId`) created, and transitively theirs,
   * revoked in the caller's transaction with its tokens. Returns the ids, announced after commit.
   */
  revokeCreatedBySession(tx: Transaction, ownerId: string, sessionId: string, now: Date): Promise<string[]> {
    return this.keys.revokeCreatedBySession(tx, ownerId, sessionId, now);
  }

  /** The caller may manage keys, the key exists for it, and its scope is one the caller may mint (see create). */
  private async assertMayManage(principal: Principal, id: string): Promise<ApiKeyRow> {
    assertMayManageKeys(principal);
    const row = await this.keys.findOwned(ownerScope(principal), id);
    if (!row) throw new DomainError('NOT_FOUND');
    assertMayHandleScope(principal, row.scope);
    return row;
  }

  private newKey(environment: ApiKeyEnvironment) {
    const key = generateApiKey(this.config.apiKeys.prefix, environment);
    return { key, fields: { keyHash: sha256(key), ...displayParts(key) } };
  }
}

/**
 * Only an ADMIN (a user, or an admin-scope key of one) may create, rotate or revoke an admin- or
 * verify-scope key: otherwise a read-write key of an ADMIN could mint itself an admin key, and a
 * USER's verify key would answer for other customers' keys.
 */
function assertMayHandleScope(principal: Principal, scope: ApiKeyRow['scope']) {
  if ((scope === 'admin' || scope === 'verify') && principal.role !== 'ADMIN') throw new DomainError('FORBIDDEN');
}

/**
 * API keys manage API keys only with admin scope of a current ADMIN: otherwise a leaked key,
 * or one rotated away and still in its grace period, could mint itself a key that never
 * expires, or take over its own replacement. (assertActorLive also refuses, under a lock, a key no longer live.)
 */
function assertMayManageKeys(principal: Principal) {
  if (principal.kind === 'apiKey' && (principal.scope !== 'admin' || principal.role !== 'ADMIN')) {
    throw new DomainError('INSUFFICIENT_SCOPE', { params: { scope: principal.scope, required: ['admin'] } });
  }
}

const actingKeyOf = (principal: Principal) => (principal.kind === 'apiKey' ? principal.apiKeyId : undefined);

/** What created a key: the acting key, or the login (refresh-token family) of the access token. */
const parentOf = (principal: Principal) =>
  principal.kind === 'apiKey' ? { parentKeyId: principal.apiKeyId, parentSessionId: null } : { parentKeyId: null, parentSessionId: principal.sessionId };

/**
 * The acting key, read again under a lock, must still be live: one revoked or rotated away a
 * moment ago (after authentication passed it, or while cached as valid elsewhere) cannot act.
 */
function assertActorLive(actor: ApiKeyRow | undefined, now: Date) {
  if (actor && isLiveKey(actor, now)) return;
  if (!actor || actor.revokedAt) throw new DomainError('INVALID_API_KEY');
  if (actor.replacedBy) throw new DomainError('API_KEY_SUPERSEDED');
  throw new DomainError('API_KEY_EXPIRED');
}
