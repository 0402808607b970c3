import { Injectable } from '@nestjs/common';
import { ApiKeyVerifier, KeyInspection } from '../../common/auth/api-key-verifier';
import { ApiKeyPrincipal } from '../../common/auth/principal';
import { TtlCache } from '../../common/cache/ttl-cache';
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
  /** Verified keys by hash. */
  private readonly cache: TtlCache<string, Entry | undefined>;
  /**
   * Hashes no key had when last looked up: the checksum is no secret, so a flood of made-up keys
   * (on any route, or in access checks) must not cost a lookup each, nor push real keys out of
   * `cache`. A key is made with a fresh random secret, so none can be presented before it exists.
   */
  private readonly unknown: TtlCache<string, true>;

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
    events: DomainEvents,
  ) {
    super();
    this.cache = new TtlCache(clock, { ttlMs: API_KEY_CACHE_TTL_MS, maxEntries: CACHE_MAX_ENTRIES, keep: (entry) => entry !== undefined });
    this.unknown = new TtlCache(clock, { ttlMs: API_KEY_CACHE_TTL_MS, maxEntries: CACHE_MAX_ENTRIES });
    events.on('user.access-changed', ({ userId }) => this.cache.forgetWhere((entry) => entry?.key.ownerId === userId));
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
    const hash = sha256(presented);
    const cached = this.cache.peek(hash);
    const entry = cached ? cached.value : this.unknown.peek(hash) ? undefined : await this.load(hash);
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
    const entry = this.cache.peekStale(sha256(presented))?.value;
    const inspection = entry && this.judge(entry);
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
    this.cache.forgetWhere((entry) => entry?.key.id === keyId);
  }

  private async load(hash: string): Promise<Entry | undefined> {
    const entry = await this.cache.load(hash, () => this.keys.findByHash(hash));
    if (!entry) this.unknown.set(hash, true);
    return entry;
  }
}
