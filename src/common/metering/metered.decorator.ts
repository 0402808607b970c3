import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiResponse } from '@nestjs/swagger';
import { ApiProblems, problemResponse } from '../openapi/api-problems.decorator';
import { RATE_LIMIT_HEADERS, RETRY_AFTER } from '../throttling/rate-limit.decorator';
import type { MeteredEndpoint } from './meter';

export const METERED = 'gatehouse:metered';
export const UNMETERED = 'gatehouse:unmetered';
/** The operation's metered limit in the spec: `{apiVersion, endpoint}`. */
export const METERED_EXTENSION = 'x-metered';

export const QUOTA_HEADERS = {
  'X-Quota-Limit': { description: 'Calls the plan allows in the current quota window', schema: { type: 'integer' } },
  'X-Quota-Remaining': { description: 'Calls left in the current quota window', schema: { type: 'integer' } },
  'X-Quota-Reset': { description: 'Unix time (seconds) at which the quota window resets; absent when it never does', schema: { type: 'integer' } },
} as const;

/** The 429 of a counted route: its quota, or the rate limit, with Retry-After and both sets of headers. */
export const quotaOrRateLimitedResponse = {
  ...problemResponse(['RATE_LIMITED', 'QUOTA_EXCEEDED']),
  headers: { 'Retry-After': RETRY_AFTER, ...RATE_LIMIT_HEADERS, ...QUOTA_HEADERS },
};

/**
 * A paid endpoint: each call by a non-ADMIN counts against the caller's plan limit for
 * `(apiVersion, endpoint)` (or the version's "*"), after authentication. Documents its refusals.
 */
export const Metered = (endpoint: string, apiVersion = 'v1') =>
  applyDecorators(
    SetMetadata(METERED, { apiVersion, endpoint } satisfies MeteredEndpoint),
    ApiExtension(METERED_EXTENSION, { apiVersion, endpoint }),
    ApiProblems('SUBSCRIPTION_REQUIRED', 'PAST_DUE', 'ENDPOINT_NOT_IN_PLAN', 'GEO_RESTRICTED'),
    ApiResponse({ status: 429, ...quotaOrRateLimitedResponse }),
  );

/**
 * Never counted against the free tier's daily cap: what a customer needs to see its plan and buy
 * another once the cap is spent.
 */
export const Unmetered = () => SetMetadata(UNMETERED, true);
