import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { EXACTLY_ONE_OF } from '../../common/openapi/exactly-one-of';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';
import { GEO_SCOPES } from '../../db/schema/geo-scopes';
import { durationUnit, limitResetPeriod, PLAN_CODES, PLAN_LIMITS, PRESET_PLAN_CODES, subscriptionStatus } from '../../db/schema/subscriptions';
import { currencySchema, moneySchema } from '../products/products.schemas';
import { geoScopeListSchema } from '../../common/geo/geo.schemas';
import { stripePriceIdSchema } from '../../common/validation/stripe-price-id';

const isoDate = z.iso.datetime({ offset: true });
const SUBSCRIPTION_STATUSES = subscriptionStatus.enumValues;

/** Longest term a plan may run for, per unit: ten years. */
const MAX_DURATION = { DAY: 3660, MONTH: 120, YEAR: 10 } as const;

const durationSchema = z
  .strictObject({ unit: z.enum(durationUnit.enumValues), count: z.number().int().min(1) })
  .superRefine((duration, ctx) => {
    const maximum = MAX_DURATION[duration.unit];
    if (duration.count > maximum)
      ctx.addIssue({
        code: 'too_big',
        origin: 'number',
        maximum,
        inclusive: true,
        input: duration.count,
        path: ['count'],
        message: `Must be at most ${maximum}`,
      });
  })
  .meta({ example: { unit: 'DAY', count: 90 } });

const geoScopeSchema = geoScopeListSchema.meta({ example: ['MARMARA', 'AEGEAN'], description: 'Where calls may come from; ALL is everywhere' });

export const apiVersionSchema = z
  .string()
  .max(PLAN_LIMITS.apiVersion)
  .regex(/^v[1-9][0-9]{0,2}$/, 'must be an API version such as v1')
  .meta({ example: 'v1' });

/** A metered endpoint's name, as plans and access checks spell it. */
export const ENDPOINT_NAME = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*$/;

const limitSchema = z.strictObject({
  apiVersion: apiVersionSchema,
  endpoint: z
    .string()
    .max(PLAN_LIMITS.endpoint)
    .regex(new RegExp(`^\\*$|${ENDPOINT_NAME.source}`), 'must be "*" or a dotted endpoint name such as integration.products.getAll')
    .meta({ example: 'integration.products.getAll', description: '"*": every metered endpoint of the version without a limit of its own' }),
  maxCalls: z.number().int().min(1).max(1_000_000_000),
});

const limitsSchema = z
  .array(limitSchema)
  .min(1)
  .max(PLAN_LIMITS.limits)
  .superRefine((limits, ctx) => {
    const seen = new Set<string>();
    limits.forEach((limit, index) => {
      const key = `${limit.apiVersion} ${limit.endpoint}`;
      if (seen.has(key))
        ctx.addIssue({
          code: 'custom',
          path: [index, 'endpoint'],
          message: 'Another limit already names this apiVersion and endpoint',
          params: { code: 'DUPLICATE_LIMIT' },
        });
      seen.add(key);
    });
  });

const rateLimitSchema = z
  .strictObject({ count: z.number().int().min(1).max(1_000_000), windowSeconds: z.number().int().min(1).max(86_400) })
  .meta({ example: { count: 100, windowSeconds: 60 } });

const customPlanSchema = z.strictObject({
  name: z.string().trim().min(1).max(PLAN_LIMITS.name),
  duration: durationSchema,
  limitResetPeriod: z.enum(limitResetPeriod.enumValues),
  geoScope: geoScopeSchema,
  limits: limitsSchema,
  rateLimit: rateLimitSchema.optional().meta({ description: "Default: the AUTHENTICATED rate-limit policy's" }),
});

const presetCodeSchema = z.enum(PRESET_PLAN_CODES);

export class SubscriptionUpdateDto extends createZodDto(
  z
    .strictObject({
      userId: idSchema('usr').optional().meta({ description: 'Default: the caller. Only an ADMIN may name another user (else 403)' }),
      subscriberId: idSchema('acc').optional().meta({ description: "The user's account id; default: that user's account (another account is 404)" }),
      planCode: presetCodeSchema.optional().meta({ description: 'A preset, by its code; NONE cancels at once' }),
      planName: presetCodeSchema.optional().meta({
        deprecated: true,
        description: 'Deprecated: the former name of planCode, with the same meaning (a plan code). Sent with a different planCode, it is 422',
      }),
      customPlan: customPlanSchema.optional().meta({ description: 'A plan made for this account alone (ADMIN only)' }),
    })
    .superRefine((body, ctx) => {
      if (body.planCode !== undefined && body.planName !== undefined && body.planCode !== body.planName) {
        ctx.addIssue({
          code: 'custom',
          path: ['planName'],
          message: 'planName is the deprecated name of planCode (and plan, in a query): give one, or the same value in both',
          params: { code: 'ALIAS_CONFLICT' },
        });
        return;
      }
      const preset = body.planCode ?? body.planName;
      if ((preset === undefined) === (body.customPlan === undefined)) {
        // On the field the body used, so a client still on the deprecated name reads its own.
        const field = body.planCode === undefined && body.planName !== undefined ? 'planName' : 'planCode';
        ctx.addIssue({ code: 'custom', path: [field], message: 'Give either planCode or customPlan', params: { code: 'ONE_PLAN' } });
      }
    })
    // The same rule in the spec, as a oneOf; generators build their example body from the first branch.
    .meta({ id: 'SubscriptionUpdateRequest', [EXACTLY_ONE_OF]: ['customPlan', 'planCode', 'planName'] }),
) {}

/** The preset a body names, by planCode or by its deprecated alias planName (the schema made them agree). */
export const presetOf = (dto: Pick<SubscriptionUpdateDto, 'planCode' | 'planName'>) => dto.planCode ?? dto.planName;

export type CustomPlanInput = z.infer<typeof customPlanSchema>;

export class PlanUpdateDto extends createZodDto(
  z
    .strictObject({
      limits: limitsSchema,
      rateLimit: rateLimitSchema.nullable(),
      geoScope: geoScopeSchema,
      price: moneySchema,
      currency: currencySchema,
      stripePriceId: stripePriceIdSchema(PLAN_LIMITS.stripePriceId).nullable(),
    })
    .partial()
    .meta({ id: 'PlanUpdateRequest' }),
) {}

const termsFields = {
  limitResetPeriod: z.enum(limitResetPeriod.enumValues),
  geoScope: z.array(z.enum(GEO_SCOPES)),
  limits: z.array(z.object({ apiVersion: z.string(), endpoint: z.string(), maxCalls: z.number().int() })),
  // Inline rather than a $ref: OpenAPI 3.0 cannot mark a $ref nullable.
  rateLimit: z
    .object({ count: z.number().int(), windowSeconds: z.number().int() })
    .nullable()
    .meta({ description: "Null: the AUTHENTICATED rate-limit policy's defaults" }),
};

export const planSchema = z
  .object({
    code: z.enum(PLAN_CODES),
    name: z.string().meta({ description: "In the caller's language" }),
    duration: z
      .object({ unit: z.enum(durationUnit.enumValues), count: z.number().int() })
      .nullable()
      .meta({ description: 'Null: no end (NONE)' }),
    ...termsFields,
    price: z.string().meta({ example: '49.00' }),
    currency: z.string().meta({ example: 'USD' }),
    stripePriceId: z.string().nullable(),
  })
  .meta({ id: 'Plan' });

export const subscriptionSchema = z
  .object({
    accountId: z.string().nullable().meta({ description: 'Null for a user without an account yet' }),
    userId: z.string(),
    planCode: z.enum(PLAN_CODES),
    plan: z.enum(PLAN_CODES).meta({ deprecated: true, description: 'Deprecated: the same value as planCode' }),
    planName: z.string().meta({ description: "The plan's name in the caller's language (its code is planCode)" }),
    status: z.enum(SUBSCRIPTION_STATUSES),
    currentPeriodStart: isoDate.nullable().meta({ description: 'Where usage counting starts; null if the account never had a plan' }),
    currentPeriodEnd: isoDate.nullable(),
    expiresAt: isoDate.nullable().meta({ description: 'When it falls back to NONE unless renewed' }),
    cancelAtPeriodEnd: z.boolean(),
    ...termsFields,
  })
  .meta({ id: 'Subscription' });

export class PlanResponseDto extends createZodDto(planSchema) {}
export class PlanListResponseDto extends createZodDto(z.object({ items: z.array(planSchema) }).meta({ id: 'PlanList' })) {}
export class SubscriptionResponseDto extends createZodDto(subscriptionSchema) {}
export class SubscriptionPageDto extends createZodDto(pageSchema(subscriptionSchema, 'SubscriptionPage')) {}

export class SubscriptionListQueryDto extends createZodDto(
  paginationQuerySchema
    .extend({
      status: z.enum(SUBSCRIPTION_STATUSES).optional(),
      planCode: z.enum(PLAN_CODES).optional(),
      plan: z.enum(PLAN_CODES).optional().meta({ deprecated: true, description: 'Deprecated: the former name of planCode' }),
      cursor: idSchema('acc').optional(),
    })
    .superRefine((query, ctx) => {
      if (query.plan !== undefined && query.planCode !== undefined && query.plan !== query.planCode)
        ctx.addIssue({
          code: 'custom',
          path: ['plan'],
          message: 'planName is the deprecated name of planCode (and plan, in a query): give one, or the same value in both',
          params: { code: 'ALIAS_CONFLICT' },
        });
    }),
) {}

export class PlanCodeParamsDto extends createZodDto(z.strictObject({ code: z.enum(PRESET_PLAN_CODES) })) {}
export class AccountIdParamsDto extends createZodDto(z.strictObject({ accountId: idSchema('acc') })) {}
