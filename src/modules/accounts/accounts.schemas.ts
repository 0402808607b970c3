import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { lazyRequire } from '../../common/lazy-require';
import { pageLinkSchema } from '../../common/validation/links';
import { ACCOUNT_LIMITS } from '../../db/schema/accounts';

/** Its metadata is read when a number is first checked (registration, a phone change), not at boot. */
const phoneNumbers = lazyRequire<typeof import('libphonenumber-js')>('libphonenumber-js');

/** A mobile number that libphonenumber-js accepts, written in E.164 (+ and digits only). */
export const mobilePhoneSchema = z
  .string()
  .max(ACCOUNT_LIMITS.phone)
  .refine(
    (value) => {
      try {
        const parsed = phoneNumbers().parsePhoneNumberWithError(value);
        return parsed.isValid() && parsed.number === value;
      } catch {
        return false;
      }
    },
    { message: 'Must be a valid mobile number in E.164 form, e.g. +905321234567', params: { code: 'INVALID_PHONE' } },
  )
  .meta({ example: '+905321234567' });

const text = (max: number) => z.string().trim().min(1).max(max);

export const accountSchema = z
  .object({
    id: z.string().meta({ example: 'acc_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    userId: z.string(),
    accountType: z.enum(['INDIVIDUAL', 'CORPORATE']),
    mobilePhone: z.string(),
    address: z.string(),
    company: z.string().nullable(),
    industry: z.string().nullable(),
    status: z.enum(['PENDING', 'ACTIVE', 'SUSPENDED']),
    emailVerified: z.boolean(),
    phoneVerified: z.boolean(),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'Account' });

export type AccountView = z.infer<typeof accountSchema>;

export class AccountResponseDto extends createZodDto(z.object({ account: accountSchema }).meta({ id: 'AccountResponse' })) {}

/** Self-service: the caller's own unless an ADMIN names another user. */
const ownUserId = idSchema('usr').optional().meta({ description: 'Default: the caller. Only an ADMIN may name another user (else 403)' });
const ownAccountId = idSchema('acc').optional().meta({ description: "Default: the user's account (another user's is 404)" });

export class AccountActivationRequestDto extends createZodDto(
  z
    .strictObject({
      userId: ownUserId,
      accountType: z.enum(['INDIVIDUAL', 'CORPORATE']),
      mobilePhone: mobilePhoneSchema,
      address: text(ACCOUNT_LIMITS.address),
      company: text(ACCOUNT_LIMITS.company).optional(),
      industry: text(ACCOUNT_LIMITS.industry).optional(),
      activationPageLink: pageLinkSchema.optional().meta({
        description:
          "The page the mailed link opens, with `?emailVerificationToken=…` added; its origin must be in ALLOWED_LINK_ORIGINS. Left out: ACTIVATION_PAGE_URL, by default Gatehouse's own page at /activate.",
        example: 'https://app.example.com/activate',
      }),
    })
    .meta({ id: 'AccountActivationRequest' }),
) {}

export class ActivateAccountDto extends createZodDto(
  z
    .strictObject({
      emailVerificationToken: z
        .string()
        .min(1)
        .max(200)
        .meta({ description: 'The `emailVerificationToken` query parameter of the mailed link; it alone names the account.' }),
      userId: idSchema('usr').optional().meta({ description: 'Optional; when given, must be the user the token was mailed to' }),
      accountId: idSchema('acc').optional().meta({ description: 'Optional; when given, must be the account the token was mailed for' }),
    })
    .meta({ id: 'ActivateAccountRequest' }),
) {}

export class PhoneActivationRequestDto extends createZodDto(
  z.strictObject({ userId: ownUserId, accountId: ownAccountId, phoneActivationPageLink: pageLinkSchema }).meta({ id: 'PhoneActivationRequest' }),
) {}

export class ActivatePhoneDto extends createZodDto(
  z
    .strictObject({ userId: ownUserId, accountId: ownAccountId, phoneVerificationToken: z.string().regex(/^\d{6}$/, 'must be the 6-digit code') })
    .meta({ id: 'ActivatePhoneRequest' }),
) {}
