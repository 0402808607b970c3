import { Injectable, Logger } from '@nestjs/common';
import { Principal, UserPrincipal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { SecretBox } from '../../common/crypto/secret-box';
import { issueSecretToken, parseSecretToken, secretMatches } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { invalidField } from '../../common/errors/field-issues';
import { DomainEvents } from '../../common/events';
import { isId, newId } from '../../lib/ids';
import { MailService, MailTemplate } from '../../common/mail/mail.service';
import { RateLimiter } from '../../common/throttling/rate-limiter';
import { AppConfig, InjectConfig } from '../../config/config';
import { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { UserRow, UsersService } from '../users/users.service';
import { toChallengeAnswer } from './auth.mapper';
import { TwoFactorChallengeAnswer } from './auth.schemas';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { newRecoveryCodes, newTotpSecret, provisioning, totpStepOf } from './totp';
import { FactorOutcome, TwoFactorAttemptsService } from './two-factor-attempts.service';
import { ChallengePurpose, CHALLENGE_MAX_FAILURES, TwoFactorChallengeRow, TwoFactorRepository } from './two-factor.repository';
import { SecondFactor, TwoFactorConfirmDto, TwoFactorDisableDto, TwoFactorSetupDto } from './two-factor.schemas';

const CHALLENGE_TTL_MS = 5 * 60_000;
/** How recent a sign-in must be to enrol without a password (a user who signs in only through a provider). */
export const RECENT_SIGN_IN_MS = 5 * 60_000;

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
    private readonly users: UsersService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly passwords: PasswordService,
    private readonly attempts: TwoFactorAttemptsService,
    private readonly box: SecretBox,
    private readonly limiter: RateLimiter,
    private readonly mail: MailService,
    private readonly events: DomainEvents,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The second factor a password-verified user still owes, if any. */
  isEnabled(userId: string): Promise<boolean> {
    return this.repository.isEnabled(userId);
  }

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

  /**
   * A new secret to scan; 2FA stays off until it is confirmed, and a later setup replaces it.
   * Signed in, it needs the password (or a recent sign-in, without one): a stolen session alone
   * must not put the thief's authenticator on the account.
   */
  async setup(principal: Principal | undefined, dto: TwoFactorSetupDto) {
    const { userId } = await this.enroller(principal, dto);
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    const secret = newTotpSecret();
    if ((await this.repository.saveUnconfirmed(userId, this.box.seal(secret))) === 'enabled') throw new DomainError('TWO_FACTOR_ALREADY_ENABLED');
    return { secret, ...(await provisioning(secret, this.config.auth.totpIssuer, user.email)) };
  }

  /**
   * Switches 2FA on with a first code, and hands out the recovery codes, once. It needs the
   * password again, as setup does. Every other login of the user ends: a session opened with the
   * password alone must not outlive the switch. The caller's own login stays (it just proved the
   * second factor); a TOTP_SETUP challenge is spent, and its ADMIN logs in again, now with a code.
   */
  async confirm(principal: Principal | undefined, dto: TwoFactorConfirmDto) {
    const enroller = await this.enroller(principal, dto);
    const credential = await this.repository.findCredential(enroller.userId);
    if (!credential) throw new DomainError('TWO_FACTOR_SETUP_REQUIRED');
    if (credential.confirmedAt) throw new DomainError('TWO_FACTOR_ALREADY_ENABLED');
    const now = this.clock.now();
    const step = totpStepOf(this.box.open(credential.secretSealed), dto.code, now);
    if (step === undefined) return this.refuseCode(enroller.challenge);
    const recoveryCodes = newRecoveryCodes();
    await this.transactions.run(async (tx) => {
      // The user row first: it orders the revocation against a concurrent refresh-token rotation.
      const user = await this.users.lockById(tx, enroller.userId);
      if (!user) throw new DomainError('UNAUTHORIZED');
      if (!(await this.repository.confirm(tx, enroller.userId, credential.secretSealed, step, now))) {
        // A setup or confirm racing this one got there first: the code confirms nothing now.
        throw new DomainError('TWO_FACTOR_CODE_INVALID');
      }
      await this.repository.replaceRecoveryCodes(
        tx,
        enroller.userId,
        recoveryCodes.map((code) => this.attempts.hashRecoveryCode(code)),
      );
      await this.refreshTokens.revokeAllOf(tx, enroller.userId, now, enroller.sessionId ? { except: enroller.sessionId } : undefined);
      if (enroller.challenge) await this.spendChallenge(tx, enroller.challenge, now);
      await this.mailOwner(tx, user, 'twoFactorEnabled');
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
    const now = this.clock.now();
    const outcome = await this.transactions.run(async (tx) => {
      const checked = await this.attempts.check(tx, challenge.userId, factor, now);
      if (checked?.passed) await this.spendChallenge(tx, challenge, now);
      return checked;
    });
    if (!outcome) throw new DomainError('TWO_FACTOR_CHALLENGE_INVALID');
    if (!outcome.passed) return this.refuseFactor(challenge.userId, outcome, challenge, now);
    return challenge.userId;
  }

  /** Switches 2FA off, with the password and a second factor; every other login of the user ends. */
  async disable(principal: Principal, dto: TwoFactorDisableDto): Promise<void> {
    const caller = signedIn(principal);
    const user = await this.users.findById(caller.userId);
    if (!(await this.passwords.verify(user?.passwordHash, dto.password)) || !user) throw new DomainError('PASSWORD_INCORRECT');
    const now = this.clock.now();
    const outcome = await this.transactions.run(async (tx) => {
      await this.users.lockById(tx, user.id);
      const checked = await this.attempts.check(tx, user.id, factorOf(dto), now);
      if (!checked?.passed) return checked;
      await this.repository.removeAllOf(tx, user.id, now);
      await this.refreshTokens.revokeAllOf(tx, user.id, now, { except: caller.sessionId });
      await this.mailOwner(tx, user, 'twoFactorDisabled');
      return checked;
    });
    if (!outcome) throw new DomainError('TWO_FACTOR_NOT_ENABLED');
    if (!outcome.passed) return this.refuseFactor(user.id, outcome, null, now);
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
      const user = await this.users.lockById(tx, userId);
      if (!user) throw new DomainError('NOT_FOUND');
      const removed = await this.repository.removeAllOf(tx, userId, now);
      if (removed) await this.mailOwner(tx, user, 'twoFactorReset');
      return removed;
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

  /**
   * Who enrols: the signed-in user, proving it is the account's owner again (see reauthenticate),
   * or an ADMIN's TOTP_SETUP challenge, which a correct password has just earned.
   */
  private async enroller(principal: Principal | undefined, dto: { challenge?: string; password?: string }): Promise<Enroller> {
    if (principal) {
      const caller = signedIn(principal);
      await this.reauthenticate(caller, dto.password);
      return { userId: caller.userId, sessionId: caller.sessionId, challenge: null };
    }
    // Without a credential the guard let the request through only because it carries a challenge.
    if (!dto.challenge) throw new DomainError('UNAUTHORIZED');
    const row = await this.openChallenge(dto.challenge, 'TOTP_SETUP');
    return { userId: row.userId, sessionId: null, challenge: row };
  }

  /**
   * The password, for a user who has one. A user who signs in only through a provider has none to
   * give: its login must have begun within RECENT_SIGN_IN_MS instead. That is the login's first
   * refresh token, which refreshing does not renew, so an old stolen session cannot pass.
   */
  private async reauthenticate(caller: UserPrincipal, password: string | undefined): Promise<void> {
    const user = await this.users.findById(caller.userId);
    if (!user) throw new DomainError('UNAUTHORIZED');
    if (user.passwordHash !== null && password === undefined) {
      throw invalidField('password', 'REQUIRED', { fallback: 'Required' });
    }
    if (password !== undefined) {
      if (!(await this.passwords.verify(user.passwordHash, password))) throw new DomainError('PASSWORD_INCORRECT');
      return;
    }
    const startedAt = await this.refreshTokens.sessionStartedAt(user.id, caller.sessionId);
    if (!startedAt || this.clock.now().getTime() - startedAt.getTime() > RECENT_SIGN_IN_MS) throw new DomainError('REAUTHENTICATION_REQUIRED');
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

  /** A refused second factor; while locked out it is not judged, so it spends none of the challenge's tries. */
  private async refuseFactor(
    userId: string,
    outcome: Extract<FactorOutcome, { passed: false }>,
    challenge: TwoFactorChallengeRow | null,
    now: Date,
  ): Promise<never> {
    const refusal = this.attempts.refusal(userId, outcome, now);
    if (refusal.code === 'TWO_FACTOR_CODE_INVALID') return this.refuseCode(challenge);
    throw refusal;
  }

  /** Tells the owner that its second factor changed: queued in the change's transaction. */
  private async mailOwner(
    tx: Transaction,
    user: UserRow,
    template: Extract<MailTemplate, 'twoFactorEnabled' | 'twoFactorDisabled' | 'twoFactorReset'>,
  ): Promise<void> {
    await this.mail.queue(tx, user, template, { name: this.users.nameOf(user) });
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
