import { retentionPolicies } from '../../common/background';
import { LoginFailuresRepository } from './login-failures.repository';
import { TwoFactorRepository } from './two-factor.repository';

/** A challenge lives 5 minutes; past this, its row (spent, voided or never answered) has no use left. */
const CHALLENGE_RETENTION_MS = 86_400_000;

/** Auth's retention: failed-login counters whose window ended, and login challenges expired over a day ago. */
export const AuthRetention = retentionPolicies(
  [LoginFailuresRepository, TwoFactorRepository],
  (failures: LoginFailuresRepository, twoFactor: TwoFactorRepository) => [
    { name: 'login failure counters whose window ended', purge: (now) => failures.pruneEnded(now) },
    {
      name: 'two-factor challenges expired over a day ago',
      purge: (now) => twoFactor.purgeChallengesExpiredBefore(new Date(now.getTime() - CHALLENGE_RETENTION_MS)),
    },
  ],
);
