import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { ERROR_CODES, ErrorCode } from './error-catalog';
import { problemMembersSchema } from './problem-params';

/**
 * The error format of the published integration docs, for the few routes those docs define
 * (POST /auth/login, GET /api/integration/products/getAll). Every other route answers RFC 9457
 * with our `code`; this one keeps `code` too, so one client can read both.
 */
export const INTEGRATION_PROBLEM_TYPES = {
  validation: { title: 'Validation error(s)', status: 400 },
  business: { title: 'Rule violation', status: 400 },
  authorization: { title: 'Authorization error', status: 401 },
  authentication: { title: 'Authentication error', status: 403 },
  internal: { title: 'Internal server error', status: 500 },
} as const;

export type IntegrationProblemSlug = keyof typeof INTEGRATION_PROBLEM_TYPES;
export const INTEGRATION_PROBLEM_SLUGS = Object.keys(INTEGRATION_PROBLEM_TYPES) as IntegrationProblemSlug[];

/** The catalog, published as one enum component so a generated client can switch over it. */
const errorCodeSchema = z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]).meta({
  id: 'ErrorCode',
  description: 'A machine code from the catalog; each operation lists the ones it answers with in `x-problem-codes`.',
  example: 'VALIDATION_FAILED',
});

export const fieldErrorSchema = z
  .object({
    field: z.string().meta({ example: 'email' }),
    code: z.string().meta({ example: 'INVALID_FORMAT' }),
    message: z.string().meta({ example: 'Invalid format' }),
  })
  .meta({ id: 'FieldError' });

export const problemDetailsSchema = z
  .object({
    type: z.url().meta({ example: 'http://localhost:3000/problems/validation-failed' }),
    title: z.string().meta({ example: 'Validation failed' }),
    status: z.number().int().min(400).max(599).meta({ example: 422 }),
    detail: z.string().meta({ example: 'One or more fields are invalid.' }),
    instance: z.string().meta({ example: '/v1/auth/register' }),
    code: errorCodeSchema,
    requestId: z.string().meta({ example: '0b4c7d2e-5f1a-4c3b-9d8e-7f6a5b4c3d2e' }),
    errors: z.array(fieldErrorSchema).optional().meta({ description: 'Present on VALIDATION_FAILED: one entry per invalid field.' }),
    // Extension members: present on the codes that declare them (PROBLEM_PARAMS).
    ...problemMembersSchema.partial().shape,
  })
  .meta({ id: 'ProblemDetails', description: 'An RFC 9457 problem detail, served as application/problem+json.' });

export type ProblemDetails = z.infer<typeof problemDetailsSchema>;

export const problemTypeSchema = z
  .object({
    type: z.url(),
    code: errorCodeSchema,
    status: z.number().int(),
    title: z.string(),
    description: z.string(),
  })
  .meta({ id: 'ProblemType' });

/** The integration docs' error body; `code`, `instance` and `requestId` are our extension members. */
export const integrationProblemSchema = z
  .object({
    type: z.url().meta({ example: 'http://localhost:3000/probs/validation' }),
    title: z.string().meta({ example: 'Validation error(s)' }),
    status: z.number().int().min(400).max(599).meta({ description: 'The problem status; 403 for forbidden, which is answered with HTTP 401.', example: 400 }),
    detail: z.string().meta({ example: 'One or more fields are invalid.' }),
    instance: z.string().meta({ example: '/auth/login' }),
    code: errorCodeSchema,
    requestId: z.string().meta({ example: '0b4c7d2e-5f1a-4c3b-9d8e-7f6a5b4c3d2e' }),
    Errors: z
      .array(z.object({ Property: z.string().meta({ example: 'email' }), Errors: z.array(z.string()).meta({ example: ['Invalid email address'] }) }))
      .optional()
      .meta({ description: 'On validation problems: the messages of each invalid property.' }),
    // The same extension members as ProblemDetails, on the codes that declare them (QUOTA_EXCEEDED's limit, apiVersion, endpoint, resetsAt).
    ...problemMembersSchema.partial().shape,
  })
  .meta({ id: 'IntegrationProblem', description: 'The error body of the integration endpoints, served as application/problem+json.' });

export type IntegrationProblem = z.infer<typeof integrationProblemSchema>;

export const integrationProblemTypeSchema = z
  .object({ type: z.url(), status: z.number().int(), title: z.string(), description: z.string() })
  .meta({ id: 'IntegrationProblemType' });

export class ProblemDetailsDto extends createZodDto(problemDetailsSchema) {}
export class ProblemTypeResponseDto extends createZodDto(problemTypeSchema) {}

export class ProblemSlugParamsDto extends createZodDto(
  z.strictObject({
    slug: z
      .string()
      .max(64)
      .regex(/^[a-z0-9-]+$/, 'must be a problem slug such as not-found'),
  }),
) {}

export class IntegrationProblemDto extends createZodDto(integrationProblemSchema) {}
export class IntegrationProblemTypeResponseDto extends createZodDto(integrationProblemTypeSchema) {}

export class IntegrationProblemSlugParamsDto extends createZodDto(z.strictObject({ slug: z.enum(INTEGRATION_PROBLEM_SLUGS) })) {}
