import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PLAN_CODES } from '../../db/schema/subscriptions';
import { subscriptionSchema } from '../subscriptions/subscriptions.schemas';

const isoDate = z.iso.datetime({ offset: true });

const usageSchema = z
  .object({
    apiVersion: z.string().meta({ example: 'v1' }),
    endpoint: z.string().meta({ example: '*', description: 'The limit\'s endpoint; "*" counts every metered endpoint of the version without its own' }),
    used: z.number().int(),
    limit: z.number().int(),
    remaining: z.number().int(),
    resetsAt: isoDate.nullable().meta({ description: 'When the current window resets; null when it never does' }),
  })
  .meta({ id: 'QuotaUsage' });

const usageFields = { usage: z.array(usageSchema).meta({ description: "Each of the plan's limits in its current window" }) };

const subscriptionUsageSchema = z
  .object({
    accountId: z.string(),
    userId: z.string(),
    planCode: z.enum(PLAN_CODES),
    plan: z.enum(PLAN_CODES).meta({ deprecated: true, description: 'Deprecated: the same value as planCode' }),
    ...usageFields,
  })
  .meta({ id: 'SubscriptionUsage' });

export class MySubscriptionResponseDto extends createZodDto(subscriptionSchema.extend(usageFields).meta({ id: 'MySubscription' })) {}
export class SubscriptionUsageResponseDto extends createZodDto(subscriptionUsageSchema) {}
