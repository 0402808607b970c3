import { Injectable } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { issueSecretToken, parseSecretToken, secretMatches } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { newId } from '../../lib/ids';
import { MailService } from '../../common/mail/mail.service';
import { assertAllowedLink, linkWith } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { UsersService } from '../users/users.service';
import { LoginFailuresRepository } from './login-failures.repository';
import { PasswordResetRepository, PasswordResetTokenRow } from './password-reset.repository';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { TransactionRunner } from '../../db/transaction';

@Injectable()
export class PasswordResetService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly users: UsersService,
    private readonly resets: PasswordResetRepository,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly failures: LoginFailuresRepository,
    private readonly passwords: PasswordService,
    private readonly mail: MailService,
    private readonly background: BackgroundTasks,
    private readonly events: DomainEvents,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Answers at once, the same way whether or not the email has an account: the lookup, the
   * token and the queued mail happen after the response, so neither body nor timing tells. The
   * token and its mail commit together; past MAIL_MAX_PER_ADDRESS_PER_HOUR, neither is written.
   */
  request(email: string, resetPageLink: string | undefined): { accepted: true } {
    if (resetPageLink) assertAllowedLink('resetPageLink', resetPageLink, this.config.allowedLinkOrigins);
    this.background.run('password reset mail', async () => {
      const user = await this.users.findByEmail(email);
      if (!user || user.status === 'SUSPENDED') return;
      const id = newId('prt');
      const { token, hash } = issueSecretToken(id);
      const ttl = this.config.auth.passwordResetTtlSeconds;
      await this.transactions.run(async (tx) => {
        const queued = await this.mail.queue(tx, user, 'passwordReset', {
          name: this.users.nameOf(user),
          link: linkWith(resetPageLink ?? linkWith(this.config.linkPages.passwordReset, { lang: user.language }), { token }),
          minutes: String(Math.round(ttl / 60)),
        });
        if (queued.queued) await this.resets.insert(tx, { id, userId: user.id, tokenHash: hash, expiresAt: new Date(this.clock.now().getTime() + ttl * 1000) });
      });
    });
    return { accepted: true };
  }

  /**
   * In one transaction: spends the token (row-locked, so it works once), sets the new password,
   * spends the user's other reset tokens and revokes every refresh token, ending all sessions.
   */
  async reset(token: string, newPassword: string): Promise<void> {
    const parsed = parseSecretToken(token);
    if (!parsed) throw new DomainError('INVALID_TOKEN');
    // A bad token is refused before the (deliberately slow) hash is computed; checked again under the lock.
    spendable(await this.resets.findById(parsed.id), parsed.secret, this.clock.now());
    const hash = await this.passwords.hash(newPassword);
    const now = this.clock.now();
    const user = await this.transactions.run(async (tx) => {
      const { userId } = spendable(await this.resets.lockById(tx, parsed.id), parsed.secret, now);
      // The user row first: it orders this reset against a concurrent refresh-token rotation.
      const changed = await this.users.setPassword(tx, userId, hash);
      await this.resets.spendAllOf(tx, userId, now);
      await this.refreshTokens.revokeAllOf(tx, userId, now);
      return changed!;
    });
    this.events.emit('user.sessions-revoked', { userId: user.id });
    // The owner proved control of the mailbox: failed logins by others no longer hold it back.
    await this.failures.clearEmail(user.email.toLowerCase());
  }
}

/** A reset token works once, with its secret, until it expires. */
function spendable(token: PasswordResetTokenRow | undefined, secret: string, now: Date): PasswordResetTokenRow {
  if (!token || token.usedAt || !secretMatches(secret, token.tokenHash)) throw new DomainError('INVALID_TOKEN');
  if (token.expiresAt <= now) throw new DomainError('TOKEN_EXPIRED');
  return token;
}
