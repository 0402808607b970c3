import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../common/ids';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';
import { API_KEY_LIMITS } from '../../db/schema/api-keys';

const scopeSchema = z.enum(['read-only', 'read-write', 'admin']);
const environmentSchema = z.enum(['live', 'test']);
const isoDate = z.iso.datetime({ offset: true });

export class ApiKeyCreateDto extends createZodDto(
  z
    .strictObject({
      name: z.string().trim().min(1).max(API_KEY_LIMITS.name),
      scope: scopeSchema,
      expiresAt: isoDate.optional().meta({ description: 'When the key stops working; it never expires if omitted.' }),
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
    revokedAt: isoDate.nullable(),
    graceEndsAt: isoDate.nullable().meta({ description: 'Set after rotation: this key works until then.' }),
    replacedBy: z.string().nullable(),
    createdAt: isoDate,
  })
  .meta({ id: 'ApiKey' });

export type ApiKeyView = z.infer<typeof apiKeySchema>;

export class ApiKeyResponseDto extends createZodDto(apiKeySchema) {}

export class ApiKeyCreatedResponseDto extends createZodDto(
  apiKeySchema
    .extend({ key: z.string().meta({ description: 'The full key. It is shown this once and never again.' }) })
    .meta({ id: 'ApiKeyCreated' }),
) {}

export class ApiKeyListQueryDto extends createZodDto(
  paginationQuerySchema.extend({
    ownerId: idSchema('usr').optional().meta({ description: "ADMIN only: one owner's keys (default: everyone's)." }),
  }),
) {}

export class ApiKeyPageDto extends createZodDto(pageSchema(apiKeySchema, 'ApiKeyPage')) {}

export class ApiKeyIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('key') })) {}
