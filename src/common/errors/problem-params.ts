import { z } from 'zod';
import type { ErrorCode } from './error-catalog';

/**
 * Every extension member a problem can carry, each declared once. ProblemDetails publishes them
 * all as optional members; a code declares the ones it carries in PROBLEM_PARAMS.
 */
export const problemMembersSchema = z.object({
  limit: z.number().int().min(1).meta({
    description: 'On PAYLOAD_TOO_LARGE, the largest body accepted, in bytes; on RATE_LIMITED, the requests allowed per window.',
    example: 1048576,
  }),
  retryAfter: z.number().int().nonnegative().meta({ description: 'Seconds before a retry may succeed, as in the Retry-After header.', example: 30 }),
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
} as const satisfies Partial<Record<ErrorCode, z.ZodObject>>;

export type ProblemMembers = Partial<z.infer<typeof problemMembersSchema>>;
export type ParamCode = keyof typeof PROBLEM_PARAMS;
export type ProblemParams<C extends ErrorCode> = C extends ParamCode ? z.infer<(typeof PROBLEM_PARAMS)[C]> : never;

/** Values a real answer would carry, for the spec's examples and the tests. */
export const PROBLEM_PARAM_EXAMPLES: { [C in ParamCode]: ProblemParams<C> } = {
  PAYLOAD_TOO_LARGE: { limit: 1048576 },
  RATE_LIMITED: { retryAfter: 30, limit: 60 },
  SERVICE_UNAVAILABLE: { retryAfter: 5 },
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
