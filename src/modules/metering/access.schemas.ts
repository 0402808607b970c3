import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PLAN_CODES, PLAN_LIMITS } from '../../db/schema/subscriptions';
import { apiVersionSchema, ENDPOINT_NAME } from '../subscriptions/subscriptions.schemas';

/** Every answer of an access check; all but ALLOWED deny the call. */
export const ACCESS_CODES = [
  'ALLOWED',
  'KEY_INVALID',
  'KEY_EXPIRED',
  'KEY_REVOKED',
  'ACCOUNT_NOT_ACTIVE',
  'INSUFFICIENT_SCOPE',
  'SUBSCRIPTION_REQUIRED',
  'PAST_DUE',
  'ENDPOINT_NOT_IN_PLAN',
  'QUOTA_EXCEEDED',
  'GEO_RESTRICTED',
  'RATE_LIMITED',
] as const;
export type AccessCode = (typeof ACCESS_CODES)[number];

export const MAX_ACCESS_COST = 1_000;

const accessVerifySchema = z
  .strictObject({
    key: z.string().min(1).max(200).meta({ description: "The customer's Gatehouse API key, as the customer sent it to the vendor's API" }),
    apiVersion: apiVersionSchema,
    endpoint: z
      .string()
      .max(PLAN_LIMITS.endpoint)
      .regex(ENDPOINT_NAME, 'must be a dotted endpoint name such as orders.create')
      .meta({ example: 'orders.create', description: "The vendor's endpoint being called, as the plans name it" }),
    ip: z.union([z.ipv4(), z.ipv6()]).optional().meta({
      example: '203.0.113.7',
      description: "The end client's address, for the plan's geographic limits; without it only plans open to ALL admit the call",
    }),
    cost: z.number().int().min(1).max(MAX_ACCESS_COST).default(1).meta({ description: 'Units the call consumes (default 1)' }),
  })
  .meta({ id: 'AccessVerify' });

const isoDate = z.iso.datetime({ offset: true });

const accessDecisionSchema = z
  .object({
    allowed: z.boolean(),
    code: z.enum(ACCESS_CODES).meta({
      description:
        "Why: KEY_* the key cannot be used (KEY_REVOKED also while its owner is suspended); ACCOUNT_NOT_ACTIVE its owner has not activated the account yet; INSUFFICIENT_SCOPE it is a verify key, which only checks other keys; SUBSCRIPTION_REQUIRED no paid plan (and the free tier, NONE, does not name the endpoint); PAST_DUE the same, after a failed payment's grace period ended; ENDPOINT_NOT_IN_PLAN the plan does not include the endpoint; QUOTA_EXCEEDED the window is spent; GEO_RESTRICTED the ip is outside the plan's geoScope; RATE_LIMITED the plan's per-window rate",
    }),
    subject: z
      .object({
        userId: z.string(),
        accountId: z.string().nullable(),
        apiKeyId: z.string(),
      })
      .nullable()
      .meta({ description: 'The customer the key belongs to; null for an unknown key' }),
    planCode: z.enum(PLAN_CODES).nullable().meta({ description: "The customer's plan in force; null for an unusable key" }),
    plan: z.enum(PLAN_CODES).nullable().meta({ deprecated: true, description: 'Deprecated: the same value as planCode' }),
    quota: z
      .object({
        limit: z.number().int(),
        remaining: z.number().int(),
        resetsAt: isoDate.nullable().meta({ description: 'Null: the allowance never resets' }),
      })
      .nullable()
      .meta({ description: 'The limit the call counts against, after this check; null when no limit was reached (denied earlier, or an ADMIN)' }),
    rateLimit: z
      .object({
        limit: z.number().int(),
        remaining: z.number().int(),
        resetsAt: isoDate,
      })
      .nullable()
      .meta({ description: "The customer's plan rate limit, after this check; null when the check stopped before it" }),
  })
  .meta({ id: 'AccessDecision' });

export class AccessVerifyDto extends createZodDto(accessVerifySchema) {}
export class AccessDecisionDto extends createZodDto(accessDecisionSchema) {}
export type AccessDecision = z.infer<typeof accessDecisionSchema>;
