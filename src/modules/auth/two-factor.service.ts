import { Injectable, Logger } from '@nestjs/common';
import { Principal, UserPrincipal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { SecretBox } from '../../common/crypto/secret-box';
import { issueSecretToken, parseSecretToken, secretMatches, sha256 } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { isId, newId } from '../../common/ids';
import { RateLimiter } from '../../common/throttling/rate-limiter';
import { AppConfig, InjectConfig } from '../../config/config';
import { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { UserRow, UsersRepository } from '../users/users.repository';
import { toChallengeAnswer } from './auth.mapper';
import { TwoFactorChallengeAnswer } from './auth.schemas';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { newRecoveryCodes, newTotpSecret, normalizeRecoveryCode, provisioning, totpStepOf } from './totp';
import { ChallengePurpose, CHALLENGE_MAX_FAILURES, TotpCredentialRow, TwoFactorChallengeRow, TwoFactorRepository } from './two-factor.repository';
import { SecondFactor, TwoFactorDisableDto } from './two-factor.schemas';

const CHALLENGE_TTL_MS = 5 * 60_000;

/** Who enrols: a signed-in user (its login is kept when 2FA switches on), or an ADMIN holding a TOTP_SETUP challenge. */
type Enroller = { userId: string; sessionId: string | null; challenge: TwoFactorChallengeRow | null };

/**
 * TOTP two-factor login: enrolment, the login challenge and its verification, switching it off,
 * and an ADMIN's reset. The secret is sealed at rest; recovery codes and challenges are hashed.
 */
@Injectable()
export class TwoFactorService {
  private readonly logger = new Logger('TwoFactor');

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly repository: TwoFactorRepository,
    private readonly users: UsersRepository,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly passwords: PasswordService,
    private readonly box: SecretBox,
    private readonly limiter: RateLimiter,
    private readonly events: DomainEvents,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The second factor a password-verified user still owes, if any. */
  async requiredFor(user: UserRow): Promise<ChallengePurpose | undefined> {
    if (await this.repository.isEnabled(user.id)) return 'TOTP';
    if (user.role === 'ADMIN' && this.config.auth.require2faForAdmins) return 'TOTP_SETUP';
    return undefined;
  }

  async issueChallenge(userId: string, purpose: ChallengePurpose): Promise<TwoFactorChallengeAnswer> {
    const id = newId('tfc');
    const { token, hash } = issueSecretToken(id);
    const expiresAt = new Date(this.clock.now().getTime() + CHALLENGE_TTL_MS);
    await this.repository.insertChallenge({ id, userId, purpose, tokenHash: hash, expiresAt });
    return toChallengeAnswer(purpose, { token, expiresAt });
  }

  /** A new secret to scan; 2FA stays off until it is confirmed, and a later setup replaces it. */
  async setup(principal: Principal | undefined, challenge: string | undefined) {
    const { userId } = await this.enroller(principal, challenge);
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    const secret = newTotpSecret();
    if ((await this.repository.saveUnconfirmed(userId, this.box.seal(secret))) === 'enabled') throw new DomainError('TWO_FACTOR_ALREADY_ENABLED');
    return { secret, ...(await provisioning(secret, this.config.auth.totpIssuer, user.email)) };
  }

  /**
   * Switches 2FA on with a first code, and hands out the recovery codes, once. Every other login of
   * the user ends: a session opened with the password alone must not outlive the switch. The
   * caller's own login stays (it just proved the second factor); a TOTP_SETUP challenge is spent,
   * and its ADMIN logs in again, now with a code.
   */
  async confirm(principal: Principal | undefined, code: string, challenge: string | undefined) {
    const enroller = await this.enroller(principal, challenge);
    const credential = await this.repository.findCredential(enroller.userId);
    if (!credential) throw new DomainError('TWO_FACTOR_SETUP_REQUIRED');
    if (credential.confirmedAt) throw new DomainError('TWO_FACTOR_ALREADY_ENABLED');
    const now = this.clock.now();
    const step = totpStepOf(this.box.open(credential.secretSealed), code, now);
    if (step === undefined) return this.refuseCode(enroller.challenge);
    const recoveryCodes = newRecoveryCodes();
    await this.transactions.run(async (tx) => {
      // The user row first: it orders the revocation against a concurrent refresh-token rotation.
      await this.users.lockById(tx, enroller.userId);
      if (!(await this.repository.confirm(tx, enroller.userId, credential.secretSealed, step, now))) {
        // A setup or confirm racing this one got there first: the code confirms nothing now.
        throw new DomainError('TWO_FACTOR_CODE_INVALID');
      }
      await this.repository.replaceRecoveryCodes(tx, enroller.userId, recoveryCodes.map(hashRecoveryCode));
      await this.refreshTokens.revokeAllOf(tx, enroller.userId, now, enroller.sessionId ? { except: enroller.sessionId } : undefined);
      if (enroller.challenge) await this.spendChallenge(tx, enroller.challenge, now);
    });
    this.events.emit('user.sessions-revoked', { userId: enroller.userId });
    return { recoveryCodes };
  }

  /**
   * The second step of a login: a TOTP challenge and a code (once per time step) or a recovery code
   * (once). The factor and the challenge are spent in one transaction, so of two requests racing
   * with them one wins. Returns the user, for a session to be opened.
   */
  async passChallenge(challengeToken: string, factor: SecondFactor): Promise<string> {
    const challenge = await this.openChallenge(challengeToken, 'TOTP');
    const credential = await this.repository.findCredential(challenge.userId);
    if (!credential?.confirmedAt) throw new DomainError('TWO_FACTOR_CHALLENGE_INVALID');
    const now = this.clock.now();
    const passed = await this.transactions.run(async (tx) => {
      if (!(await this.spendFactor(tx, credential, factor, now))) return false;
      await this.spendChallenge(tx, challenge, now);
      return true;
    });
    if (!passed) return this.refuseCode(challenge);
    return challenge.userId;
  }

  /** Switches 2FA off, with the password and a second factor; every other login of the user ends. */
  async disable(principal: Principal, dto: TwoFactorDisableDto): Promise<void> {
    const caller = signedIn(principal);
    const user = await this.users.findById(caller.userId);
    if (!(await this.passwords.verify(user?.passwordHash, dto.password)) || !user) throw new DomainError('PASSWORD_INCORRECT');
    const credential = await this.repository.findCredential(user.id);
    if (!credential?.confirmedAt) throw new DomainError('TWO_FACTOR_NOT_ENABLED');
    const now = this.clock.now();
    await this.transactions.run(async (tx) => {
      await this.users.lockById(tx, user.id);
      if (!(await this.spendFactor(tx, credential, factorOf(dto), now))) throw new DomainError('TWO_FACTOR_CODE_INVALID');
      await this.repository.removeAllOf(tx, user.id, now);
      await this.refreshTokens.revokeAllOf(tx, user.id, now, { except: caller.sessionId });
    });
    this.events.emit('user.sessions-revoked', { userId: user.id });
  }

  /**
   * An ADMIN switches a user's 2FA off (a lost phone and lost recovery codes). The user's logins are
   * left alone. There is no admin audit table: the act is logged as a structured security event
   * (as refresh-token reuse is), and an ADMIN acting with an API key also gets that key's audit row.
   */
  async reset(principal: Principal, userId: string): Promise<void> {
    const now = this.clock.now();
    const hadTwoFactor = await this.transactions.run(async (tx) => {
      if (!(await this.users.lockById(tx, userId))) throw new DomainError('NOT_FOUND');
      return this.repository.removeAllOf(tx, userId, now);
    });
    this.logger.warn(
      {
        event: 'two_factor_reset',
        userId,
        byUserId: principal.userId,
        byApiKeyId: principal.kind === 'apiKey' ? principal.apiKeyId : undefined,
        hadTwoFactor,
      },
      "Security: an ADMIN reset a user's two-factor login",
    );
  }

  private async enroller(principal: Principal | undefined, challenge: string | undefined): Promise<Enroller> {
    if (principal) {
      const caller = signedIn(principal);
      return { userId: caller.userId, sessionId: caller.sessionId, challenge: null };
    }
    // Without a credential the guard let the request through only because it carries a challenge.
    if (!challenge) throw new DomainError('UNAUTHORIZED');
    const row = await this.openChallenge(challenge, 'TOTP_SETUP');
    return { userId: row.userId, sessionId: null, challenge: row };
  }

  /** A challenge that can still be answered, counted against its own rate limit; anything else is one refusal. */
  private async openChallenge(token: string, purpose: ChallengePurpose): Promise<TwoFactorChallengeRow> {
    const parsed = parseSecretToken(token);
    if (!parsed || !isId(parsed.id, 'tfc')) throw new DomainError('TWO_FACTOR_CHALLENGE_INVALID');
    const taken = await this.limiter.take('twoFactorChallenge', `challenge:${parsed.id}`, this.config.rateLimit.policies.twoFactorChallenge);
    if (taken.blocked) throw new DomainError('RATE_LIMITED', { params: { retryAfter: taken.secondsLeft, limit: taken.limit } });
    const row = await this.repository.findChallenge(parsed.id);
    const now = this.clock.now();
    if (
      !row ||
      !secretMatches(parsed.secret, row.tokenHash) ||
      row.purpose !== purpose ||
      row.consumedAt ||
      row.expiresAt <= now ||
      row.failedAttempts >= CHALLENGE_MAX_FAILURES
    ) {
      throw new DomainError('TWO_FACTOR_CHALLENGE_INVALID');
    }
    return row;
  }

  private async spendChallenge(tx: Transaction, challenge: TwoFactorChallengeRow, now: Date): Promise<void> {
    if (!(await this.repository.consumeChallenge(tx, challenge.id, now))) throw new DomainError('TWO_FACTOR_CHALLENGE_INVALID');
  }

  /** A wrong code counts against the challenge it came with: the fifth voids it. */
  private async refuseCode(challenge: TwoFactorChallengeRow | null): Promise<never> {
    if (challenge) await this.repository.countFailure(challenge.id);
    throw new DomainError('TWO_FACTOR_CODE_INVALID');
  }

  /** Spends a TOTP code (its time step, once) or a recovery code; false when it is wrong or spent. */
  private async spendFactor(tx: Transaction, credential: TotpCredentialRow, factor: SecondFactor, now: Date): Promise<boolean> {
    if ('recoveryCode' in factor) return this.repository.useRecoveryCode(tx, credential.userId, hashRecoveryCode(factor.recoveryCode), now);
    const step = totpStepOf(this.box.open(credential.secretSealed), factor.code, now);
    return step !== undefined && this.repository.useStep(tx, credential.userId, step);
  }
}

/** Enrolling and switching off belong to a login; an API key cannot do either. */
function signedIn(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user') throw new DomainError('FORBIDDEN');
  return principal;
}

export function factorOf(dto: { code?: string; recoveryCode?: string }): SecondFactor {
  return dto.recoveryCode !== undefined ? { recoveryCode: dto.recoveryCode } : { code: dto.code! };
}

const hashRecoveryCode = (code: string) => sha256(normalizeRecoveryCode(code));
