import { retentionPolicies } from '../background';
import { IdempotencyRepository } from './idempotency.repository';

/** Idempotency's retention: keys whose 24 h ran out, with their sealed responses. */
export const IdempotencyRetention = retentionPolicies([IdempotencyRepository], (keys: IdempotencyRepository) => [
  { name: 'expired idempotency keys', purge: (now) => keys.purgeExpired(now) },
]);
