import { Injectable } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { issueSecretToken, parseSecretToken } from '../../common/crypto/secret-token';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { newId } from '../../common/ids';
import { MailService } from '../../common/mail/mail.service';
import { assertAllowedLink, linkWith } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { fullName } from '../users/users.mapper';
import { UsersRepository } from '../users/users.repository';
import { LoginFailuresRepository } from './login-failures.repository';
import { PasswordResetRepository, ResetOutcome } from './password-reset.repository';
import { PasswordService } from './password.service';

@Injectable()
export class PasswordResetService {
  constructor(
    private readonly users: UsersRepository,
    private readonly resets: PasswordResetRepository,
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
   * token and the mail happen after the response, so neither body nor timing tells.
   */
  request(email: string, resetPageLink: string): { accepted: true } {
    assertAllowedLink('resetPageLink', resetPageLink, this.config.allowedLinkOrigins);
    this.background.run('password reset mail', async () => {
      const user = await this.users.findByEmail(email);
      if (!user || user.status === 'SUSPENDED') return;
      const id = newId('prt');
      const { token, hash } = issueSecretToken(id);
      const ttl = this.config.auth.passwordResetTtlSeconds;
      await this.resets.insert({ id, userId: user.id, tokenHash: hash, expiresAt: new Date(this.clock.now().getTime() + ttl * 1000) });
      await this.mail.sendTemplate(user.email, 'passwordReset', user.language, {
        name: fullName(user),
        link: linkWith(resetPageLink, { token }),
        minutes: String(Math.round(ttl / 60)),
      });
    });
    return { accepted: true };
  }

  async reset(token: string, newPassword: string): Promise<void> {
    const parsed = parseSecretToken(token);
    if (!parsed) throw new DomainError('INVALID_TOKEN');
    // A bad token is refused before the (deliberately slow) hash is computed.
    throwUnlessReset(await this.resets.check(parsed.id, parsed.secret, this.clock.now()));
    const hash = await this.passwords.hash(newPassword);
    const result = await this.resets.resetPassword(parsed.id, parsed.secret, hash, this.clock.now());
    throwUnlessReset(result.outcome);
    if (result.outcome !== 'reset') return;
    this.events.emit('user.sessions-revoked', { userId: result.userId });
    // The owner proved control of the mailbox: failed logins by others no longer hold it back.
    await this.failures.clearEmail(result.email.toLowerCase());
  }
}

function throwUnlessReset(outcome: ResetOutcome) {
  if (outcome === 'invalid') throw new DomainError('INVALID_TOKEN');
  if (outcome === 'expired') throw new DomainError('TOKEN_EXPIRED');
}
