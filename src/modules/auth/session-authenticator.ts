import { Injectable } from '@nestjs/common';
import { UserPrincipal } from '../../common/auth/principal';
import { SessionVerifier } from '../../common/auth/session-verifier';
import { TtlCache } from '../../common/cache/ttl-cache';
import { Clock } from '../../common/clock';
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

interface Session {
  userId: string;
  state: SessionState | undefined;
}

@Injectable()
export class SessionAuthenticator extends SessionVerifier {
  /** By session id (the refresh-token family). */
  private readonly cache: TtlCache<string, Session>;

  constructor(
    private readonly refreshTokens: RefreshTokensRepository,
    clock: Clock,
    events: DomainEvents,
  ) {
    super();
    this.cache = new TtlCache(clock, { ttlMs: SESSION_CACHE_TTL_MS, maxEntries: CACHE_MAX_ENTRIES });
    const forgetUser = (userId: string) => this.cache.forgetWhere((session) => session.userId === userId);
    events.on('user.access-changed', ({ userId }) => forgetUser(userId));
    events.on('user.sessions-revoked', ({ userId, sessionId }) => (sessionId ? this.cache.forget(sessionId) : forgetUser(userId)));
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
    const cached = this.cache.peek(sessionId)?.value;
    if (cached?.userId === userId) return cached.state;
    const session = await this.cache.load(sessionId, async () => ({ userId, state: await this.refreshTokens.findSession(userId, sessionId) }));
    // A session id belongs to one user; a token naming another (which no signature allows) reads its own answer.
    return session.userId === userId ? session.state : this.refreshTokens.findSession(userId, sessionId);
  }
}
