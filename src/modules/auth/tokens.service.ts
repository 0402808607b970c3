import { createHmac } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Clock } from '../../common/clock';
import { hashesEqual, issueSecretToken, parseSecretToken, secretTokenWith } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { newId } from '../../lib/ids';
import { AppConfig, InjectConfig } from '../../config/config';
import { TransactionRunner } from '../../db/transaction';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { UserRow } from '../users/users.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

export interface TokenPair {
  accessToken: IssuedToken;
  refreshToken: IssuedToken;
}

/** Signs access tokens and issues, rotates and revokes refresh tokens. */
@Injectable()
export class TokensService {
  private readonly logger = new Logger('TokensService');

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly apiKeys: ApiKeysService,
    private readonly clock: Clock,
    private readonly events: DomainEvents,
    private readonly jwt: JwtService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** A new login: a fresh refresh-token family. */
  async issue(user: UserRow): Promise<TokenPair> {
    const now = this.clock.now();
    const id = newId('rtk');
    const refresh = issueSecretToken(id);
    const expiresAt = this.refreshExpiry(now);
    await this.refreshTokens.insert({ id, userId: user.id, familyId: id, tokenHash: refresh.hash, expiresAt });
    return { accessToken: this.signAccessToken(user, id, now), refreshToken: { token: refresh.token, expiresAt } };
  }

  /**
   * Exchanges a refresh token for a new pair. Within the reuse interval a replaced token answers
   * with the same successor (two tabs refreshing at once); after it, a replaced token revokes its
   * whole family, and the API keys that login created. The successor's secret is an HMAC of the old secret under a server key, so the
   * same successor can be handed out again without its secret ever being stored.
   */
  async rotate(token: string, loadUser: (userId: string) => Promise<UserRow>): Promise<TokenPair> {
    const parsed = parseSecretToken(token);
    if (!parsed) throw new DomainError('REFRESH_TOKEN_INVALID');
    const now = this.clock.now();
    const replayableSince = new Date(now.getTime() - this.config.auth.refreshReuseIntervalSeconds * 1000);
    const successorSecret = this.successorSecret(parsed.secret);
    let issued: IssuedToken | undefined;
    const { result, revokedKeyIds } = await this.transactions.run(async (tx) => {
      const rotation = await this.refreshTokens.rotate(tx, parsed.id, parsed.secret, now, replayableSince, () => {
        const id = newId('rtk');
        const next = secretTokenWith(id, successorSecret);
        issued = { token: next.token, expiresAt: this.refreshExpiry(now) };
        return { id, tokenHash: next.hash, expiresAt: issued.expiresAt };
      });
      // A leaked login's keys go with it, in the same transaction as its tokens.
      const keys = rotation.outcome === 'reused' ? await this.apiKeys.revokeCreatedBySession(tx, rotation.userId, rotation.familyId, now) : [];
      return { result: rotation, revokedKeyIds: keys };
    });
    if (result.outcome === 'reused') {
      this.logger.warn(
        { event: 'refresh_token_reuse', userId: result.userId, sessionId: result.familyId, revokedApiKeyIds: revokedKeyIds },
        'Security: a replaced refresh token was presented again; its login, and the API keys it created, are revoked',
      );
      this.events.emit('user.sessions-revoked', { userId: result.userId, sessionId: result.familyId });
      if (revokedKeyIds.length > 0) this.events.emit('api-keys.revoked', { keyIds: revokedKeyIds });
      throw new DomainError('REFRESH_TOKEN_REUSED');
    }
    if (result.outcome === 'replayed') {
      const again = secretTokenWith(result.successor.id, successorSecret);
      // A successor made under another server key (JWT_SECRET changed meanwhile) cannot be rebuilt.
      if (!hashesEqual(again.hash, result.successor.tokenHash)) throw new DomainError('REFRESH_TOKEN_INVALID');
      issued = { token: again.token, expiresAt: result.successor.expiresAt };
    }
    if (result.outcome === 'invalid' || !issued) throw new DomainError('REFRESH_TOKEN_INVALID');
    const user = await loadUser(result.previous.userId);
    if (user.status === 'SUSPENDED') {
      await this.revokeSession(user.id, result.previous.familyId);
      throw new DomainError('ACCOUNT_SUSPENDED');
    }
    return { accessToken: this.signAccessToken(user, result.previous.familyId, now), refreshToken: issued };
  }

  async revoke(token: string): Promise<void> {
    const parsed = parseSecretToken(token);
    const family = parsed && (await this.refreshTokens.revokeFamilyOf(parsed.id, parsed.secret, this.clock.now()));
    if (family) this.events.emit('user.sessions-revoked', { userId: family.userId, sessionId: family.familyId });
  }

  /** Ends the login an access token belongs to; its access tokens stop working too. */
  async revokeSession(userId: string, sessionId: string): Promise<void> {
    await this.refreshTokens.revokeFamily(userId, sessionId, this.clock.now());
    this.events.emit('user.sessions-revoked', { userId, sessionId });
  }

  private signAccessToken(user: UserRow, sessionId: string, now: Date): IssuedToken {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.config.auth.accessTokenTtlSeconds;
    // Algorithm, issuer, audience and key are the JwtModule's (accessTokenJwtOptions).
    const token = this.jwt.sign({
      sub: user.id,
      sid: sessionId,
      role: user.role,
      status: user.status,
      lang: user.language,
      locale: user.locale,
      tz: user.timezone,
      iat,
      exp,
    });
    return { token, expiresAt: new Date(exp * 1000) };
  }

  private successorSecret(secret: string): string {
    return createHmac('sha256', this.config.auth.jwtSecret).update(`gatehouse refresh-token successor\0${secret}`).digest('base64url');
  }

  private refreshExpiry(now: Date): Date {
    return new Date(now.getTime() + this.config.auth.refreshTokenTtlSeconds * 1000);
  }
}
