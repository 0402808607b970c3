import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';
import { isoDateTimeInput } from '../../common/validation/dates';
import { API_KEY_LIMITS, apiKeyScope } from '../../db/schema/api-keys';

const scopeSchema = z.enum(apiKeyScope.enumValues).meta({
  description:
    'read-only: GET and HEAD; read-write: anything but ADMIN routes; admin: ADMIN routes too, if the owner is an ADMIN; verify: POST /v1/access/verify and nothing else (only an ADMIN may create one)',
});
const environmentSchema = z.enum(['live', 'test']);
const isoDate = z.iso.datetime({ offset: true });

export class ApiKeyCreateDto extends createZodDto(
  z
    .strictObject({
      name: z.string().trim().min(1).max(API_KEY_LIMITS.name),
      scope: scopeSchema,
      expiresAt: isoDateTimeInput.optional().meta({ description: 'When the key stops working: in the future, before 9999. It never expires if omitted.' }),
      environment: environmentSchema.default('live'),
    })
    .meta({ id: 'ApiKeyCreateRequest' }),
) {}

export const apiKeySchema = z
  .object({
    id: z.string().meta({ example: 'key_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    ownerId: z.string(),
    name: z.string(),
    scope: scopeSchema,
    environment: environmentSchema,
    prefix: z.string().meta({ example: 'gate_live_AbCd' }),
    last4: z.string(),
    expiresAt: isoDate.nullable(),
    revokedAt: isoDate.nullable().meta({ description: 'When DELETE /v1/api-keys/{id} revoked it; a revoked key stays readable.' }),
    graceEndsAt: isoDate.nullable().meta({ description: 'Set after rotation: this key works until then.' }),
    replacedBy: z.string().nullable(),
    parentKeyId: z
      .string()
      .nullable()
      .meta({ description: 'The API key that created this one (null: created at login). Revoking a key revokes what it created.' }),
    createdAt: isoDate,
  })
  .meta({ id: 'ApiKey' });

export type ApiKeyView = z.infer<typeof apiKeySchema>;

export class ApiKeyResponseDto extends createZodDto(apiKeySchema) {}

export class ApiKeyCreatedResponseDto extends createZodDto(
  apiKeySchema.extend({ key: z.string().meta({ description: 'The full key. It is shown this once and never again.' }) }).meta({ id: 'ApiKeyCreated' }),
) {}

export class ApiKeyListQueryDto extends createZodDto(
  paginationQuerySchema.extend({
    ownerId: idSchema('usr').optional().meta({ description: "ADMIN only: one owner's keys (default: everyone's)." }),
  }),
) {}

export class ApiKeyPageDto extends createZodDto(pageSchema(apiKeySchema, 'ApiKeyPage')) {}

export class ApiKeyIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('key') })) {}

export class ApiKeyUsageQueryDto extends createZodDto(
  z
    .strictObject({
      from: isoDateTimeInput
        .optional()
        .meta({ description: 'Start (inclusive), before `to`, at most 366 days before it; default 24 h before `to`. Between 1970 and 9999.' }),
      to: isoDateTimeInput.optional().meta({ description: 'End (exclusive), after `from`; default now. Between 1970 and 9999.' }),
      granularity: z.enum(['hour', 'day']).default('hour'),
    })
    .refine((query) => !query.from || !query.to || new Date(query.from) < new Date(query.to), { message: 'from must be before to', path: ['from'] }),
) {}

const usageBucketSchema = z.object({
  start: isoDate,
  requestCount: z.number().int(),
  clientErrorCount: z.number().int(),
  serverErrorCount: z.number().int(),
  errorRate: z.number().meta({ description: '(4xx + 5xx) / requests, 0 when there were none' }),
  p95LatencyMs: z.number().int().nullable().meta({ description: 'Upper bound of the histogram bucket holding the 95th percentile' }),
});

export class ApiKeyUsageResponseDto extends createZodDto(
  z
    .object({ keyId: z.string(), granularity: z.enum(['hour', 'day']), lastUsedAt: isoDate.nullable(), buckets: z.array(usageBucketSchema) })
    .meta({ id: 'ApiKeyUsage' }),
) {}

const auditEntrySchema = z
  .object({
    id: z.string(),
    at: isoDate,
    method: z.string(),
    route: z.string(),
    status: z.number().int(),
    latencyMs: z.number().int(),
    ip: z.string(),
    userAgent: z.string().nullable(),
    requestId: z.string(),
  })
  .meta({ id: 'ApiKeyAuditEntry' });

export type ApiKeyAuditEntryView = z.infer<typeof auditEntrySchema>;

export class ApiKeyAuditPageDto extends createZodDto(pageSchema(auditEntrySchema, 'ApiKeyAuditPage')) {}

export class ApiKeyAuditQueryDto extends createZodDto(paginationQuerySchema) {}
