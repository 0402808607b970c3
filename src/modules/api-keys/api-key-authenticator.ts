import { Injectable } from '@nestjs/common';
import { ApiKeyVerifier, KeyInspection } from '../../common/auth/api-key-verifier';
import { ApiKeyPrincipal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { sha256 } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { AppConfig, InjectConfig } from '../../config/config';
import { hasValidChecksum } from './api-key-format';
import { ApiKeysRepository } from './api-keys.repository';

/**
 * How long a verified key (and its owner's rights) is trusted without asking the database. It
 * bounds how late another instance notices a revocation, demotion or suspension; this instance
 * drops the entry at once.
 */
export const API_KEY_CACHE_TTL_MS = 5_000;
const CACHE_MAX_ENTRIES = 10_000;

type Entry = NonNullable<Awaited<ReturnType<ApiKeysRepository['findByHash']>>>;

@Injectable()
export class ApiKeyAuthenticator extends ApiKeyVerifier {
  private readonly cache = new Map<string, { entry: Entry; loadedAt: number }>();
  /** When each key was last forgotten: a lookup that started earlier must not re-cache it. */
  private readonly forgottenAt = new Map<string, number>();
  /**
   * Hashes no key had when last looked up, and when: the checksum is no secret, so a flood of
   * made-up keys (on any route, or in access checks) must not cost a lookup each. A key is made
   * with a fresh random secret, so none can be presented before it exists.
   */
  private readonly unknown = new Map<string, number>();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
    events: DomainEvents,
  ) {
    super();
    events.on('user.access-changed', ({ userId }) => this.forgetWhere((entry) => entry.key.ownerId === userId));
    events.on('api-keys.revoked', ({ keyIds }) => keyIds.forEach((keyId) => this.forget(keyId)));
  }

  isApiKey(bearer: string): boolean {
    return bearer.startsWith(`${this.config.apiKeys.prefix}_`);
  }

  async verify(presented: string): Promise<ApiKeyPrincipal> {
    const inspection = await this.inspect(presented);
    switch (inspection.outcome) {
      case 'VALID':
        return inspection.principal;
      case 'UNKNOWN':
      case 'REVOKED':
        throw new DomainError('INVALID_API_KEY');
      case 'EXPIRED':
        throw new DomainError('API_KEY_EXPIRED');
      case 'OWNER_SUSPENDED':
        throw new DomainError('ACCOUNT_SUSPENDED');
    }
  }

  async inspect(presented: string): Promise<KeyInspection> {
    // A mistyped key fails its checksum here, before any lookup.
    if (!hasValidChecksum(presented, this.config.apiKeys.prefix)) return { outcome: 'UNKNOWN' };
    const entry = await this.load(sha256(presented));
    return entry ? this.judge(entry) : { outcome: 'UNKNOWN' };
  }

  /**
   * The key a presented secret belongs to, from this instance's cache however old the entry (a
   * key's hash never changes hands), if the key was usable as last seen: to put a request the
   * database could not authenticate, during an outage, in its key's audit log. Never a reason to
   * let a request in.
   */
  cachedKeyId(presented: string): string | undefined {
    if (!hasValidChecksum(presented, this.config.apiKeys.prefix)) return undefined;
    const cached = this.cache.get(sha256(presented));
    const inspection = cached && this.judge(cached.entry);
    return inspection?.outcome === 'VALID' ? inspection.principal.apiKeyId : undefined;
  }

  private judge({ key, owner }: Entry): KeyInspection {
    const now = this.clock.now();
    const known = { apiKeyId: key.id, userId: key.ownerId };
    if (key.revokedAt) return { outcome: 'REVOKED', ...known };
    if ((key.expiresAt && key.expiresAt <= now) || (key.graceEndsAt && key.graceEndsAt <= now)) return { outcome: 'EXPIRED', ...known };
    if (owner.status === 'SUSPENDED') return { outcome: 'OWNER_SUSPENDED', ...known };
    return {
      outcome: 'VALID',
      principal: {
        kind: 'apiKey',
        apiKeyId: key.id,
        userId: key.ownerId,
        // A key never exceeds its owner: ADMIN only for an admin- or verify-scope key of a current
        // ADMIN (the route guard keeps a verify key to the access check).
        role: (key.scope === 'admin' || key.scope === 'verify') && owner.role === 'ADMIN' ? 'ADMIN' : 'USER',
        status: owner.status,
        language: owner.language,
        scope: key.scope,
        environment: key.environment,
      },
    };
  }

  /** Drops a key from this instance's cache (after revocation or rotation). */
  forget(keyId: string): void {
    this.forgottenAt.set(keyId, Date.now());
    this.forgetWhere((entry) => entry.key.id === keyId);
  }

  private async load(hash: string): Promise<Entry | undefined> {
    const cached = this.cache.get(hash);
    if (cached && Date.now() - cached.loadedAt < API_KEY_CACHE_TTL_MS) return cached.entry;
    if (Date.now() - (this.unknown.get(hash) ?? -Infinity) < API_KEY_CACHE_TTL_MS) return undefined;
    const started = Date.now();
    let entry = await this.keys.findByHash(hash);
    // Revoked or rotated while this lookup was in flight: what it read may predate that; read again.
    if (entry && (this.forgottenAt.get(entry.key.id) ?? -1) >= started) entry = await this.keys.findByHash(hash);
    if (!entry) {
      this.cache.delete(hash);
      if (this.unknown.size >= CACHE_MAX_ENTRIES) this.unknown.delete(this.unknown.keys().next().value!);
      this.unknown.set(hash, Date.now());
      return undefined;
    }
    this.pruneForgotten();
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, { entry, loadedAt: Date.now() });
    return entry;
  }

  private pruneForgotten(): void {
    const horizon = Date.now() - API_KEY_CACHE_TTL_MS;
    for (const [keyId, at] of this.forgottenAt) if (at < horizon) this.forgottenAt.delete(keyId);
  }

  private forgetWhere(matches: (entry: Entry) => boolean): void {
    for (const [hash, cached] of this.cache) if (matches(cached.entry)) this.cache.delete(hash);
  }
}
