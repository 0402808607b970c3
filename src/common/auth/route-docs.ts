import type { ErrorCode } from '../errors/error-catalog';
import { problemCodesOf, problemResponse } from '../openapi/api-problems.decorator';
import { QUOTA_HEADERS } from '../metering/quota-headers';
import { RATE_LIMIT_HEADERS, RETRY_AFTER } from '../throttling/rate-limit-headers';
import type { AccessPlan } from './route-access';

/** @nestjs/swagger's metadata key for a handler's responses (DECORATORS.API_RESPONSE, not exported by the package). */
const SWAGGER_RESPONSES = 'swagger/apiResponse';

type Headers = Record<string, unknown>;
type ResponseEntry = { description?: string; headers?: Headers; [key: string]: unknown };

/** What a valid credential can still be refused with: a token or key that does not (or no longer) verify. */
export const CREDENTIAL_FAILURES: ErrorCode[] = [
  'UNAUTHORIZED',
  'ACCESS_TOKEN_INVALID',
  'ACCESS_TOKEN_EXPIRED',
  'SESSION_REVOKED',
  'INVALID_API_KEY',
  'API_KEY_EXPIRED',
];
/** The metering refusals of a paid endpoint, before its quota. */
export const PLAN_REFUSALS: ErrorCode[] = ['SUBSCRIPTION_REQUIRED', 'PAST_DUE', 'ENDPOINT_NOT_IN_PLAN', 'GEO_RESTRICTED'];

/**
 * The problems the route guard can answer a route with, by status, and the headers they carry:
 * derived from the same plan the guard runs, so the docs cannot say otherwise.
 */
export function guardResponses(plan: AccessPlan): Map<number, { codes: ErrorCode[]; headers?: Headers }> {
  const responses = new Map<number, { codes: ErrorCode[]; headers?: Headers }>();
  if (!plan.public) {
    responses.set(401, { codes: CREDENTIAL_FAILURES });
    const forbidden: ErrorCode[] = [
      ...(plan.roles ? (['FORBIDDEN'] as const) : []),
      ...(plan.metered ? PLAN_REFUSALS : []),
      'ACCOUNT_SUSPENDED',
      ...(plan.allowInactive ? [] : (['ACCOUNT_NOT_ACTIVE'] as const)),
      ...(plan.csrf ? (['CSRF_REJECTED'] as const) : []),
      'INSUFFICIENT_SCOPE',
    ];
    responses.set(403, { codes: forbidden });
  }
  if (plan.rateLimit !== undefined || !plan.public) {
    // A signed-in caller is also counted (a paid endpoint's quota, or the free tier's daily cap) unless unmetered.
    const counted = !plan.public && !plan.unmetered;
    responses.set(429, {
      codes: counted ? ['RATE_LIMITED', 'QUOTA_EXCEEDED'] : ['RATE_LIMITED'],
      headers: { 'Retry-After': RETRY_AFTER, ...RATE_LIMIT_HEADERS, ...(counted ? QUOTA_HEADERS : {}) },
    });
    // The limiter's counters and the credential checks reach Redis or the database, whose outage is a retryable 503.
    responses.set(503, { codes: ['SERVICE_UNAVAILABLE'], headers: { 'Retry-After': RETRY_AFTER } });
  }
  return responses;
}

/**
 * Writes the guard's responses into the handler's documented ones. A route's own codes for a
 * status (a lockout's 429) come first and stay; the guard's headers are the status's headers.
 * A paid endpoint's successful answers carry its quota headers.
 */
export function documentGuardResponses(handler: object, plan: AccessPlan): void {
  const existing = (Reflect.getMetadata(SWAGGER_RESPONSES, handler) ?? {}) as Record<string, ResponseEntry>;
  const responses: Record<string, ResponseEntry> = { ...existing };
  for (const [status, { codes, headers }] of guardResponses(plan)) {
    const own = existing[status];
    const merged = problemResponse([...new Set([...problemCodesOf(own), ...codes])]);
    responses[status] = { ...own, ...merged, ...(headers ? { headers } : {}) };
  }
  if (plan.metered) {
    for (const [status, response] of Object.entries(existing)) {
      if (Number(status) < 300) responses[status] = { ...response, headers: { ...response.headers, ...QUOTA_HEADERS } };
    }
  }
  Reflect.defineMetadata(SWAGGER_RESPONSES, responses, handler);
}
