import { SetMetadata } from '@nestjs/common';
import type { RateLimitPolicy } from '../../config/config';
import { problemResponse } from '../openapi/api-problems.decorator';

export const RATE_LIMIT_POLICY = 'gatehouse:rateLimitPolicy';
export const SKIP_RATE_LIMIT = 'gatehouse:skipRateLimit';

/** Puts a route under a named limit (RATE_LIMIT_<NAME>) instead of the public or authenticated default. */
export const RateLimit = (policy: RateLimitPolicy) => SetMetadata(RATE_LIMIT_POLICY, policy);

/** For health probes only: orchestrators poll them from one address and must never be refused. */
export const SkipRateLimit = () => SetMetadata(SKIP_RATE_LIMIT, true);

export const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit': { description: 'Requests allowed in the window', schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the window', schema: { type: 'integer' } },
  'X-RateLimit-Reset': { description: 'Unix time (seconds) at which the window resets', schema: { type: 'integer' } },
} as const;

export const RETRY_AFTER = { description: 'Seconds until a request may succeed', schema: { type: 'integer' } } as const;

/** The documented 429, with Retry-After and the rate-limit headers. */
export const rateLimitedResponse = {
  ...problemResponse(['RATE_LIMITED']),
  headers: { 'Retry-After': RETRY_AFTER, ...RATE_LIMIT_HEADERS },
};
