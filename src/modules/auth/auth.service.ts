import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { Principal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig, InjectConfig } from '../../config/config';
import { UserRow, UsersService } from '../users/users.service';
import { toSession } from './auth.mapper';
import { LoginDto, RegisterDto, Session, SessionSignIn, SignIn } from './auth.schemas';
import { AttemptCount, emailIpKey, emailKey, LoginFailuresRepository } from './login-failures.repository';
import { PasswordService } from './password.service';
import { TokenPair, TokensService } from './tokens.service';
import { factorOf, TwoFactorService } from './two-factor.service';
import { TwoFactorVerifyDto } from './two-factor.schemas';
import { ipRateLimitKey } from '../../common/throttling/client-key';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly tokens: TokensService,
    private readonly twoFactor: TwoFactorService,
    private readonly failures: LoginFailuresRepository,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async register(dto: RegisterDto) {
    const passwordHash = await this.passwords.hash(dto.password);
    const result = await this.users.create({
      email: dto.email,
      passwordHash,
      firstName: dto.firstName,
      middleName: dto.middleName ?? null,
      lastName: dto.lastName,
      language: dto.language,
      locale: dto.locale,
      timezone: dto.timezone,
    });
    if (result.outcome === 'email-taken') throw new DomainError('USER_EXISTS');
    return { user: this.users.view(result.user) };
  }

  /**
   * Attempts are counted before the password is hashed, so a blocked caller costs no CPU. An
   * unknown email is verified against a dummy hash and takes as long as a wrong password.
   * Only an email+IP pair is blocked: blocking an email from every IP would let anyone lock its
   * owner out. Past the limit from many IPs, each attempt for the email waits instead, longer
   * with each failure, and the right password still gets in.
   */
  async login(dto: LoginDto, ip: string): Promise<SignIn> {
    // First of all: past the hashing cap a login is refused (429) before it costs a query or counts.
    let place = this.passwords.admit();
    try {
      const email = dto.email.toLowerCase();
      // IPv6 by its /64, as the rate limiter counts it: one holder of a /64 must not get a counter per address.
      const keys = [emailKey(email), emailIpKey(email, ipRateLimitKey(ip))];
      const { count, windowSeconds } = this.config.auth.loginFailureLimit;
      const now = this.clock.now();
      const attempts = await this.failures.countAttempt(keys, windowSeconds, now);
      const fromThisIp = attempts.find((attempt) => attempt.key === keys[1]);
      if (fromThisIp && fromThisIp.failures > count) {
        const retryAfter = Math.max(1, Math.ceil((fromThisIp.windowEndsAt.getTime() - now.getTime()) / 1000));
        throw new DomainError('RATE_LIMITED', { params: { retryAfter } });
      }
      const delay = this.slowdownMs(
        attempts.find((attempt) => attempt.key === keys[0]),
        count,
      );
      if (delay > 0) {
        // Not holding a place while made to wait: logins slowed for an attacked email must not
        // fill the cap and lock everyone else out.
        place.release();
        await sleep(delay);
        place = this.passwords.admit();
      }

      const user = await this.users.findByEmail(dto.email);
      if (!(await this.passwords.verify(user?.passwordHash, dto.password, place)) || !user) {
        throw new DomainError('INVALID_CREDENTIALS');
      }
      await this.failures.clear(keys);
      return await this.finishSignIn(user);
    } finally {
      place.release();
    }
  }

  /**
   * Every way in ends here once the user is known (a password today, an external provider next):
   * a session, or, when a second factor is due, a challenge instead of tokens and cookies.
   */
  async finishSignIn(user: UserRow): Promise<SignIn> {
    if (user.status === 'SUSPENDED') throw new DomainError('ACCOUNT_SUSPENDED');
    const purpose = await this.twoFactor.requiredFor(user);
    if (purpose) return { answer: await this.twoFactor.issueChallenge(user.id, purpose), tokens: null };
    // No second factor was due, so none is on (requiredFor asks for TOTP whenever one is).
    return this.startSession(user, false);
  }

  /** The second step of a two-factor login: the challenge and a code or recovery code, for a session. */
  async verifyTwoFactor(dto: TwoFactorVerifyDto): Promise<SessionSignIn> {
    const userId = await this.twoFactor.passChallenge(dto.challenge, factorOf(dto));
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError('TWO_FACTOR_CHALLENGE_INVALID');
    if (user.status === 'SUSPENDED') throw new DomainError('ACCOUNT_SUSPENDED');
    // Only a TOTP challenge leads here with a session (a TOTP_SETUP one ends at enrolment).
    return this.startSession(user, true);
  }

  private async startSession(user: UserRow, twoFactorEnabled: boolean): Promise<SessionSignIn> {
    const tokens = await this.tokens.issue(user);
    return { answer: toSession(this.users.currentView(user, twoFactorEnabled), tokens), tokens };
  }

  /** 250 ms for the first attempt past the limit, doubling with each one, up to LOGIN_SLOWDOWN_MAX_MS. */
  private slowdownMs(acrossIps: AttemptCount | undefined, limit: number): number {
    const excess = (acrossIps?.failures ?? 0) - limit;
    if (excess <= 0) return 0;
    return Math.min(this.config.auth.loginSlowdownMaxMs, 250 * 2 ** Math.min(excess - 1, 16));
  }

  async refresh(refreshToken: string | undefined): Promise<{ session: Session; tokens: TokenPair }> {
    if (!refreshToken) throw new DomainError('REFRESH_TOKEN_INVALID');
    let user: UserRow | undefined;
    const tokens = await this.tokens.rotate(refreshToken, async (userId) => {
      user = await this.users.findById(userId);
      if (!user) throw new DomainError('REFRESH_TOKEN_INVALID');
      return user;
    });
    return { session: toSession(this.users.currentView(user!, await this.twoFactor.isEnabled(user!.id)), tokens), tokens };
  }

  /** Ends the caller's login: the family of the refresh token given, and the one its access token belongs to. */
  async logout(principal: Principal, refreshToken: string | undefined): Promise<void> {
    if (principal.kind !== 'user') throw new DomainError('FORBIDDEN');
    if (refreshToken) await this.tokens.revoke(refreshToken);
    await this.tokens.revokeSession(principal.userId, principal.sessionId);
  }
}
