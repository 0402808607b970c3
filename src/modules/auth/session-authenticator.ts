import { Injectable } from '@nestjs/common';
import { UserPrincipal } from '../../common/auth/principal';
import { SessionVerifier } from '../../common/auth/session-verifier';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { RefreshTokensRepository, SessionState } from './refresh-tokens.repository';

/**
 * How long a login's state (live or revoked, and its user's role and status) is trusted without
 * asking the database. It bounds how late another instance notices a logout, suspension, role
 * change or password reset; this instance drops the entry at once. The same bound as API keys.
 */
export const SESSION_CACHE_TTL_MS = 5_000;
const CACHE_MAX_ENTRIES = 10_000;

interface Cached {
  userId: string;
  state: SessionState | undefined;
  loadedAt: number;
}

@Injectable()
export class SessionAuthenticator extends SessionVerifier {
  /** By session id (the refresh-token family). */
  private readonly cache = new Map<string, Cached>();
  /**
   * Bumped by every invalidation. A lookup that started before one may have read the old state,
   * so it answers with what it read but does not cache it.
   */
  private generation = 0;

  constructor(
    private readonly refreshTokens: RefreshTokensRepository,
    events: DomainEvents,
  ) {
    super();
    events.on('user.access-changed', ({ userId }) => this.forget(userId));
    events.on('user.sessions-revoked', ({ userId, sessionId }) => this.forget(userId, sessionId));
  }

  async verify(token: UserPrincipal): Promise<UserPrincipal> {
    const state = await this.load(token.userId, token.sessionId);
    if (!state) throw new DomainError('SESSION_REVOKED');
    if (state.status === 'SUSPENDED') throw new DomainError('ACCOUNT_SUSPENDED');
    if (!state.live) throw new DomainError('SESSION_REVOKED');
    return {
      ...token,
      role: state.role,
      status: state.status,
      language: state.language,
      locale: state.locale,
      timezone: state.timezone,
    };
  }

  private async load(userId: string, sessionId: string): Promise<SessionState | undefined> {
    const cached = this.cache.get(sessionId);
    if (cached && cached.userId === userId && Date.now() - cached.loadedAt < SESSION_CACHE_TTL_MS) return cached.state;
    const generation = this.generation;
    const state = await this.refreshTokens.findSession(userId, sessionId);
    if (generation === this.generation) {
      this.cache.delete(sessionId);
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(sessionId, { userId, state, loadedAt: Date.now() });
    }
    return state;
  }

  private forget(userId: string, sessionId?: string): void {
    this.generation++;
    if (sessionId) {
      if (this.cache.get(sessionId)?.userId === userId) this.cache.delete(sessionId);
      return;
    }
    for (const [id, cached] of this.cache) if (cached.userId === userId) this.cache.delete(id);
  }
}
