import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { pageLinkSchema } from '../../common/validation/links';
import { PLAN_CODES } from '../../db/schema/subscriptions';

export class CheckoutSessionCreateDto extends createZodDto(
  z
    .strictObject({
      items: z
        .array(
          z.strictObject({
            productId: idSchema('prd'),
            quantity: z.number().int().min(1).max(100_000).default(1).meta({
              description:
                'Units; the server caps units per product and per order (CHECKOUT_MAX_UNITS_PER_LINE, CHECKOUT_MAX_UNITS_PER_ORDER: 1000 and 10000 by default)',
            }),
          }),
        )
        .min(1)
        .max(50),
      successUrl: pageLinkSchema,
      cancelUrl: pageLinkSchema,
    })
    .meta({ id: 'CheckoutSessionCreateRequest' }),
) {}

export class CheckoutSessionResponseDto extends createZodDto(
  z.object({ id: z.string().meta({ example: 'cs_test_a1b2c3' }), url: z.string(), orderId: z.string() }).meta({ id: 'CheckoutSession' }),
) {}

export class SubscriptionCheckoutCreateDto extends createZodDto(
  z
    .strictObject({
      planCode: z.enum(PLAN_CODES).meta({ description: 'A paid preset with a Stripe price, e.g. PREMIUM_MONTHLY' }),
      successUrl: pageLinkSchema,
      cancelUrl: pageLinkSchema,
    })
    .meta({ id: 'SubscriptionCheckoutCreateRequest' }),
) {}

export class SubscriptionCheckoutResponseDto extends createZodDto(
  z.object({ id: z.string().meta({ example: 'cs_test_a1b2c3' }), url: z.string() }).meta({ id: 'SubscriptionCheckoutSession' }),
) {}

export class WebhookReceivedDto extends createZodDto(z.object({ received: z.literal(true) }).meta({ id: 'WebhookReceived' })) {}
