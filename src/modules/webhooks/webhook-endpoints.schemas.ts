import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';
import { WEBHOOK_ENDPOINT_LIMITS } from '../../db/schema/webhooks';
import { WEBHOOK_EVENT_TYPES } from '../outbox/outbox.events';

const isoDate = z.iso.datetime({ offset: true });
const scopeSchema = z.enum(['own', 'all']);

/**
 * Known event types, each once, or `["*"]` alone: a 422 names an unknown or repeated type by its
 * index (`events.2`), and `*` beside others on `events`. The spec says the same in JSON Schema:
 * unique items, and one of `["*"]` or a list of specific types.
 */
const eventsSchema = z
  .array(z.enum([...WEBHOOK_EVENT_TYPES, '*'], { error: 'Unknown event type: GET /v1/webhooks/event-types lists them' }))
  .min(1)
  .max(WEBHOOK_ENDPOINT_LIMITS.events)
  .superRefine((events, ctx) => {
    if (events.includes('*') && events.length > 1) {
      ctx.addIssue({ code: 'custom', path: [], message: '"*" (every type) stands alone', params: { code: 'WILDCARD_ALONE' } });
    }
    events.forEach((event, index) => {
      if (events.indexOf(event) !== index) ctx.addIssue({ code: 'custom', path: [index], message: 'Listed more than once', params: { code: 'DUPLICATE' } });
    });
  })
  // A component of its own: Nest's swagger would move an array property's oneOf into its items.
  .meta({
    id: 'WebhookEventList',
    description: 'The event types to receive, each once, or ["*"] alone for every type',
    example: ['checkout.session.completed', 'license.activated'],
    uniqueItems: true,
    oneOf: [
      { type: 'array', items: { type: 'string', enum: ['*'] }, minItems: 1, maxItems: 1, description: 'Every event type' },
      { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] }, description: 'These event types' },
    ],
  });

// The URL's own rules (https, ports, addresses) need the deployment's policy: the service checks them.
const urlSchema = z.string().trim().min(1).max(WEBHOOK_ENDPOINT_LIMITS.url).meta({
  description: 'https:// (http:// only where WEBHOOKS_ALLOW_INSECURE is set), no credentials, port 443, 80 or 8000-65535, not a private address',
  example: 'https://hooks.example.com/gatehouse',
});
const descriptionSchema = z.string().trim().max(WEBHOOK_ENDPOINT_LIMITS.description);

export class WebhookEndpointCreateDto extends createZodDto(
  z
    .strictObject({
      url: urlSchema,
      events: eventsSchema,
      description: descriptionSchema.optional(),
      scope: scopeSchema.default('own').meta({ description: "`all` (ADMIN only): every user's events; `own`: events about the owner's resources" }),
    })
    .meta({ id: 'WebhookEndpointCreateRequest' }),
) {}

export class WebhookEndpointUpdateDto extends createZodDto(
  z
    .strictObject({
      url: urlSchema.optional(),
      events: eventsSchema.optional(),
      description: descriptionSchema.nullable().optional(),
      enabled: z.boolean().optional().meta({ description: 'false stops deliveries; true resumes them, whatever disabled the endpoint' }),
    })
    .meta({ id: 'WebhookEndpointUpdateRequest' }),
) {}

export const webhookEndpointSchema = z
  .object({
    id: z.string().meta({ example: 'whe_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    ownerId: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    scope: scopeSchema,
    disabledReason: z
      .enum(['OWNER', 'GONE', 'FAILING'])
      .nullable()
      .meta({ description: 'Why it is disabled: OWNER turned off; GONE the receiver answered 410; FAILING every delivery failed for days' }),
    disabledAt: isoDate.nullable(),
    previousSecretExpiresAt: isoDate.nullable().meta({ description: 'After a rotation: deliveries are also signed with the previous secret until then' }),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: 'WebhookEndpoint' });

export type WebhookEndpointView = z.infer<typeof webhookEndpointSchema>;

const secretSchema = z.string().meta({
  description: 'The signing secret, `whsec_` and base64. It is shown this once and never again.',
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
});

export class WebhookEndpointResponseDto extends createZodDto(webhookEndpointSchema) {}

export class WebhookEndpointCreatedResponseDto extends createZodDto(
  webhookEndpointSchema.extend({ secret: secretSchema }).meta({ id: 'WebhookEndpointCreated' }),
) {}

export class WebhookSecretResponseDto extends createZodDto(
  z.object({ secret: secretSchema, previousSecretExpiresAt: isoDate }).meta({ id: 'WebhookSecretRotated' }),
) {}

export class WebhookEndpointListQueryDto extends createZodDto(
  paginationQuerySchema.extend({
    ownerId: idSchema('usr').optional().meta({ description: "ADMIN only: one owner's endpoints (default: everyone's)." }),
  }),
) {}

export class WebhookEndpointPageDto extends createZodDto(pageSchema(webhookEndpointSchema, 'WebhookEndpointPage')) {}

export class WebhookEndpointIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('whe') })) {}

const eventTypeSchema = z
  .object({
    type: z.string().meta({ example: 'license.activated' }),
    description: z.string(),
    schema: z.record(z.string(), z.unknown()).meta({ description: "JSON Schema (draft 2020-12) of the event's `data.object`" }),
  })
  .meta({ id: 'WebhookEventType' });

export type WebhookEventTypeView = z.infer<typeof eventTypeSchema>;

export class WebhookEventTypesResponseDto extends createZodDto(z.object({ items: z.array(eventTypeSchema) }).meta({ id: 'WebhookEventTypes' })) {}
