import { Injectable } from '@nestjs/common';
import { ownerScope, Principal } from '../../common/auth/principal';
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
    assertMayHandleScope(principal, dto.scope);
    const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    if (expiresAt && expiresAt <= this.clock.now()) {
      throw new DomainError('VALIDATION_FAILED', { errors: [{ field: 'expiresAt', code: 'INVALID_VALUE', message: 'Must be in the future' }] });
    }
    const { key, fields } = this.newKey(dto.environment);
    const row = await this.keys.insert({ ownerId: principal.userId, name: dto.name, scope: dto.scope, environment: dto.environment, expiresAt, ...fields });
    return { ...toApiKeyView(row), key };
  }

  async list(principal: Principal, query: ApiKeyListQueryDto) {
    const ownerId = ownerScope(principal) ?? query.ownerId;
    const page = toPage(await this.keys.list({ ownerId, cursor: query.cursor, limit: query.limit }), query.limit);
    return { items: page.items.map(toApiKeyView), nextCursor: page.nextCursor };
  }

  async get(principal: Principal, id: string) {
    const row = await this.keys.findOwned(ownerScope(principal), id);
    if (!row) throw new DomainError('NOT_FOUND');
    return toApiKeyView(row);
  }

  /** A new key with the same name, scope and expiry; the old one works for API_KEY_ROTATION_GRACE. */
  async rotate(principal: Principal, id: string) {
    await this.assertMayManage(principal, id);
    const now = this.clock.now();
    let key = '';
    const result = await this.keys.rotate(
      ownerScope(principal),
      id,
      now,
      (old) => {
        const fresh = this.newKey(old.environment);
        key = fresh.key;
        return { ownerId: old.ownerId, name: old.name, scope: old.scope, environment: old.environment, expiresAt: old.expiresAt, ...fresh.fields };
      },
      new Date(now.getTime() + this.config.apiKeys.rotationGraceSeconds * 1000),
    );
    if (result.outcome === 'not-found') throw new DomainError('NOT_FOUND');
    if (result.outcome === 'not-rotatable') throw new DomainError('CONFLICT');
    this.authenticator.forget(result.old.id);
    return { ...toApiKeyView(result.created), key };
  }

  /** Revoked at once here; other instances notice within the key cache's TTL (5 s). */
  async revoke(principal: Principal, id: string): Promise<void> {
    await this.assertMayManage(principal, id);
    const row = await this.keys.revoke(ownerScope(principal), id, this.clock.now());
    if (!row) throw new DomainError('NOT_FOUND');
    this.authenticator.forget(row.id);
  }

  /** The key exists for this caller, and its scope is one the caller may mint (see create). */
  private async assertMayManage(principal: Principal, id: string): Promise<void> {
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
    createdAt: row.createdAt.toISOString(),
  };
}
