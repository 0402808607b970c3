import { retentionPolicies } from '../../common/background';
import { AccountsRepository } from './accounts.repository';

/** Accounts' retention: per-number text counters of past UTC days. */
export const AccountsRetention = retentionPolicies([AccountsRepository], (accounts: AccountsRepository) => [
  { name: 'phone send counters of past days', purge: (now) => accounts.pruneDailyPhoneCounts(now.toISOString().slice(0, 10)) },
]);
