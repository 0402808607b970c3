import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';
import { WEBHOOK_EVENT_TYPES } from '../outbox/outbox.events';

const isoDate = z.iso.datetime({ offset: true });
const statusSchema = z.enum(['PENDING', 'SUCCEEDED', 'FAILED']);

const attemptSchema = z
  .object({
    id: z.string().meta({ example: 'wha_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    attemptedAt: isoDate,
    statusCode: z.number().int().nullable().meta({ description: 'The HTTP status answered; null when no answer came (see failure)' }),
    durationMs: z.number().int(),
    responseBody: z.string().nullable().meta({ description: 'The first 4 KiB of the answer' }),
    failure: z.string().nullable().meta({ description: 'Why no status came back, e.g. "TIMEOUT: …" or "ADDRESS_REFUSED: …"' }),
  })
  .meta({ id: 'WebhookAttempt' });

/** The body the endpoint received, as published. */
const payloadSchema = z
  .object({
    id: z.string().meta({ description: 'The event id, also sent as webhook-id', example: 'evt_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    object: z.literal('event'),
    type: z.string(),
    created: z.number().int().meta({ description: 'Unix seconds' }),
    data: z.object({ object: z.record(z.string(), z.unknown()) }),
  })
  .meta({ id: 'WebhookEvent' });

export const webhookDeliverySchema = z
  .object({
    id: z.string().meta({ example: 'whd_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    endpointId: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    status: statusSchema.meta({ description: 'PENDING: attempted again at nextAttemptAt; SUCCEEDED: a 2xx came back; FAILED: given up' }),
    attemptCount: z.number().int(),
    nextAttemptAt: isoDate.nullable(),
    lastError: z.string().nullable(),
    createdAt: isoDate,
    completedAt: isoDate.nullable(),
    payload: payloadSchema,
    attempts: z.array(attemptSchema).meta({ description: 'Oldest first' }),
  })
  .meta({ id: 'WebhookDelivery' });

export type WebhookDeliveryView = z.infer<typeof webhookDeliverySchema>;

export class WebhookDeliveryResponseDto extends createZodDto(webhookDeliverySchema) {}

export class WebhookDeliveryPageDto extends createZodDto(pageSchema(webhookDeliverySchema, 'WebhookDeliveryPage')) {}

export class WebhookDeliveryListQueryDto extends createZodDto(
  paginationQuerySchema.extend({
    endpointId: idSchema('whe').optional(),
    eventType: z.enum(WEBHOOK_EVENT_TYPES).optional(),
    status: statusSchema.optional(),
  }),
) {}

export class WebhookDeliveryIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('whd') })) {}

export class WebhookRecoverDto extends createZodDto(
  z
    .strictObject({
      since: isoDate.meta({
        description: 'Failed deliveries created at or after this time are sent again; not in the future',
        example: '2026-01-01T00:00:00.000Z',
      }),
    })
    .meta({ id: 'WebhookRecoverRequest' }),
) {}

export class WebhookRecoveredResponseDto extends createZodDto(
  z.object({ requeued: z.number().int().meta({ description: 'How many failed deliveries are due again now' }) }).meta({ id: 'WebhookRecovered' }),
) {}
