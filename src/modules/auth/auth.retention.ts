import { Injectable, OnModuleInit } from '@nestjs/common';
import { Retention } from '../../common/background';
import { LoginFailuresRepository } from './login-failures.repository';
import { TwoFactorRepository } from './two-factor.repository';

/** A challenge lives 5 minutes; past this, its row (spent, voided or never answered) has no use left. */
const CHALLENGE_RETENTION_MS = 86_400_000;

/** Auth's retention: failed-login counters whose window ended, and login challenges expired over a day ago. */
@Injectable()
export class AuthRetention implements OnModuleInit {
  constructor(
    private readonly failures: LoginFailuresRepository,
    private readonly twoFactor: TwoFactorRepository,
    private readonly retention: Retention,
  ) {}

  onModuleInit() {
    this.retention.register({ name: 'login failure counters whose window ended', purge: (now) => this.failures.pruneEnded(now) });
    this.retention.register({
      name: 'two-factor challenges expired over a day ago',
      purge: (now) => this.twoFactor.purgeChallengesExpiredBefore(new Date(now.getTime() - CHALLENGE_RETENTION_MS)),
    });
  }
}
