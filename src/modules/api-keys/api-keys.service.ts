import { Injectable } from '@nestjs/common';
import { ownedBy, ownerScope, Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { sha256 } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { toPage } from '../../common/pagination';
import { AppConfig, InjectConfig } from '../../config/config';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeyEnvironment, displayParts, generateApiKey } from './api-key-format';
import { ApiKeyRow, ApiKeysRepository } from './api-keys.repository';
import { ApiKeyCreateDto, ApiKeyListQueryDto, ApiKeyView } from './api-keys.schemas';

@Injectable()
export class ApiKeysService {
  constructor(
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
      throw new DomainError('VALIDATION_FAILED', { errors: [{ field: 'expiresAt', code: 'INVALID_VALUE', message: 'Must be in the future' }] });
    }
    const { key, fields } = this.newKey(dto.environment);
    const result = await this.keys.create(
      { ownerId: principal.userId, name: dto.name, scope: dto.scope, environment: dto.environment, expiresAt, ...parentOf(principal), ...fields },
      actingKeyOf(principal),
      now,
      this.config.apiKeys.maxPerUser,
    );
    if (result.outcome === 'actor-not-current') throw actorError(result.actor);
    if (result.outcome === 'limit-reached') throw new DomainError('API_KEY_LIMIT_REACHED');
    return { ...toApiKeyView(result.row), key };
  }

  async list(principal: Principal, query: ApiKeyListQueryDto) {
    // An ADMIN may narrow the list to one owner; anyone else sees only their own.
    const own = ownerScope(principal);
    const scope = 'all' in own && query.ownerId ? ownedBy(query.ownerId) : own;
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
   * API_KEY_ROTATION_GRACE, and the one it had replaced stops at once.
   */
  async rotate(principal: Principal, id: string) {
    await this.assertMayManage(principal, id);
    const now = this.clock.now();
    let key = '';
    const result = await this.keys.rotate(
      ownerScope(principal),
      id,
      actingKeyOf(principal),
      now,
      (old) => {
        const fresh = this.newKey(old.environment);
        key = fresh.key;
        const { ownerId, name, scope, environment, expiresAt, parentKeyId, parentSessionId } = old;
        return { ownerId, name, scope, environment, expiresAt, parentKeyId, parentSessionId, ...fresh.fields };
      },
      new Date(now.getTime() + this.config.apiKeys.rotationGraceSeconds * 1000),
    );
    if (result.outcome === 'actor-not-current') throw actorError(result.actor);
    if (result.outcome === 'not-found') throw new DomainError('NOT_FOUND');
    if (result.outcome === 'not-rotatable') throw new DomainError('CONFLICT');
    for (const keyId of [result.old.id, ...result.graceEnded]) this.authenticator.forget(keyId);
    return { ...toApiKeyView(result.created), key };
  }

  /**
   * Revokes the key, the keys it replaced, and what any of them created. At once here; other
   * instances notice within the key cache's TTL (5 s).
   */
  async revoke(principal: Principal, id: string): Promise<void> {
    await this.assertMayManage(principal, id);
    const result = await this.keys.revoke(ownerScope(principal), id, actingKeyOf(principal), this.clock.now());
    if (result.outcome === 'actor-not-current') throw actorError(result.actor);
    if (result.outcome === 'not-found') throw new DomainError('NOT_FOUND');
    for (const keyId of result.ids) this.authenticator.forget(keyId);
  }

  /** The caller may manage keys, the key exists for it, and its scope is one the caller may mint (see create). */
  private async assertMayManage(principal: Principal, id: string): Promise<void> {
    assertMayManageKeys(principal);
    const row = await this.keys.findOwned(ownerScope(principal), id);
    if (!row) throw new DomainError('NOT_FOUND');
    assertMayHandleScope(principal, row.scope);
  }

  private newKey(environment: ApiKeyEnvironment) {
    const key = generateApiKey(this.config.apiKeys.prefix, environment);
    return { key, fields: { keyHash: sha256(key), ...displayParts(key) } };
  }
}

/**
 * Only an ADMIN (a user, or an admin-scope key of one) may create, rotate or revoke an admin-scope
 * key: otherwise a read-write key of an ADMIN could mint itself an admin key.
 */
function assertMayHandleScope(principal: Principal, scope: ApiKeyRow['scope']) {
  if (scope === 'admin' && principal.role !== 'ADMIN') throw new DomainError('FORBIDDEN');
}

/**
 * API keys manage API keys only with admin scope of a current ADMIN: otherwise a leaked key,
 * or one rotated away and still in its grace period, could mint itself a key that never
 * expires, or take over its own replacement. (The repository also refuses a key no longer current.)
 */
function assertMayManageKeys(principal: Principal) {
  if (principal.kind === 'apiKey' && (principal.scope !== 'admin' || principal.role !== 'ADMIN')) throw new DomainError('INSUFFICIENT_SCOPE');
}

const actingKeyOf = (principal: Principal) => (principal.kind === 'apiKey' ? principal.apiKeyId : undefined);

/** What created a key: the acting key, or the login (refresh-token family) of the access token. */
const parentOf = (principal: Principal) =>
  principal.kind === 'apiKey' ? { parentKeyId: principal.apiKeyId, parentSessionId: null } : { parentKeyId: null, parentSessionId: principal.sessionId };

/** The acting key was revoked, rotated away or expired after authentication passed it (cache, race). */
function actorError(actor: ApiKeyRow | undefined): DomainError {
  if (!actor || actor.revokedAt) return new DomainError('INVALID_API_KEY');
  if (actor.replacedBy) return new DomainError('API_KEY_SUPERSEDED');
  return new DomainError('API_KEY_EXPIRED');
}

function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    ownerId: row.ownerId,
    name: row.name,
    scope: row.scope,
    environment: row.environment,
    prefix: row.prefix,
    last4: row.last4,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    graceEndsAt: row.graceEndsAt?.toISOString() ?? null,
    replacedBy: row.replacedBy,
    parentKeyId: row.parentKeyId,
    createdAt: row.createdAt.toISOString(),
  };
}
