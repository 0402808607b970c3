import { z } from 'zod';
import { apiKeyScope } from '../../db/schema/api-keys';
import type { ErrorCode } from './error-catalog';

/**
 * Every extension member a problem can carry, each declared once. ProblemDetails publishes them
 * all as optional members; a code declares the ones it carries in PROBLEM_PARAMS.
 */
export const problemMembersSchema = z.object({
  limit: z.number().int().min(1).meta({
    description:
      'On PAYLOAD_TOO_LARGE, the largest body accepted, in bytes; on RATE_LIMITED, the requests allowed per window; on QUOTA_EXCEEDED, the calls the plan allows per quota window.',
    example: 1048576,
  }),
  retryAfter: z.number().int().nonnegative().meta({ description: 'Seconds before a retry may succeed, as in the Retry-After header.', example: 30 }),
  apiVersion: z.string().meta({ description: 'On quota problems, the API version of the limit that applies', example: 'v1' }),
  endpoint: z
    .string()
    .meta({ description: 'On quota problems, the limit\'s endpoint ("*": every metered endpoint of the version without its own)', example: '*' }),
  resetsAt: z.iso.datetime({ offset: true }).meta({ description: 'On QUOTA_EXCEEDED, when the quota window resets', example: '2026-12-04T00:00:00.000Z' }),
  country: z.string().length(2).meta({ description: 'On GEO_RESTRICTED, the ISO country the caller was placed in (never the address)', example: 'DE' }),
  scope: z.enum(apiKeyScope.enumValues).meta({ description: 'On INSUFFICIENT_SCOPE, the scope of the API key that made the request', example: 'read-write' }),
  required: z
    .array(z.enum(apiKeyScope.enumValues))
    .meta({ description: 'On INSUFFICIENT_SCOPE, the key scopes that may make this request (any one of them)', example: ['verify', 'admin'] }),
});

/**
 * The parameters each code carries, as mx-space's payload map: `new DomainError(code, { params })`
 * is checked against them at compile time, and the writer adds exactly these to the problem (as
 * extension members, and to the translated detail). Codes not listed carry none.
 */
export const PROBLEM_PARAMS = {
  PAYLOAD_TOO_LARGE: problemMembersSchema.pick({ limit: true }),
  // The limit is optional: the login lockout does not publish its threshold.
  RATE_LIMITED: problemMembersSchema.pick({ retryAfter: true, limit: true }).partial({ limit: true }),
  SERVICE_UNAVAILABLE: problemMembersSchema.pick({ retryAfter: true }),
  IDEMPOTENCY_KEY_IN_USE: problemMembersSchema.pick({ retryAfter: true }),
  TWO_FACTOR_LOCKED: problemMembersSchema.pick({ retryAfter: true }),
  CHECKOUT_IN_PROGRESS: problemMembersSchema.pick({ retryAfter: true }),
  // Without a reset (a NONE-reset plan with no end) there is no Retry-After and no resetsAt.
  QUOTA_EXCEEDED: problemMembersSchema
    .pick({ retryAfter: true, limit: true, apiVersion: true, endpoint: true, resetsAt: true })
    .partial({ retryAfter: true, resetsAt: true }),
  ENDPOINT_NOT_IN_PLAN: problemMembersSchema.pick({ apiVersion: true, endpoint: true }),
  // Unknown locations (private ranges, addresses the data cannot place) have no country.
  GEO_RESTRICTED: problemMembersSchema.pick({ country: true }).partial(),
  INSUFFICIENT_SCOPE: problemMembersSchema.pick({ scope: true, required: true }),
} as const satisfies Partial<Record<ErrorCode, z.ZodObject>>;

export type ProblemMembers = Partial<z.infer<typeof problemMembersSchema>>;
export type ParamCode = keyof typeof PROBLEM_PARAMS;
export type ProblemParams<C extends ErrorCode> = C extends ParamCode ? z.infer<(typeof PROBLEM_PARAMS)[C]> : never;

/** Values a real answer would carry, for the spec's examples and the tests. */
export const PROBLEM_PARAM_EXAMPLES: { [C in ParamCode]: ProblemParams<C> } = {
  PAYLOAD_TOO_LARGE: { limit: 1048576 },
  RATE_LIMITED: { retryAfter: 30, limit: 60 },
  SERVICE_UNAVAILABLE: { retryAfter: 5 },
  IDEMPOTENCY_KEY_IN_USE: { retryAfter: 1 },
  TWO_FACTOR_LOCKED: { retryAfter: 900 },
  CHECKOUT_IN_PROGRESS: { retryAfter: 1 },
  QUOTA_EXCEEDED: { retryAfter: 3600, limit: 1000, apiVersion: 'v1', endpoint: '*', resetsAt: '2026-12-04T00:00:00.000Z' },
  ENDPOINT_NOT_IN_PLAN: { apiVersion: 'v1', endpoint: 'integration.products.getAll' },
  GEO_RESTRICTED: { country: 'DE' },
  INSUFFICIENT_SCOPE: { scope: 'read-write', required: ['verify', 'admin'] },
};

const isParamCode = (code: ErrorCode): code is ParamCode => Object.hasOwn(PROBLEM_PARAMS, code);

/**
 * The members `code` declares, taken from `params`; anything else is dropped. Undefined when the
 * code declares params and these do not match them (a caller that cast its way past the types).
 */
export function declaredParams(code: ErrorCode, params: unknown): ProblemMembers | undefined {
  if (!isParamCode(code)) return {};
  const parsed = PROBLEM_PARAMS[code].safeParse(params);
  return parsed.success ? parsed.data : undefined;
}
