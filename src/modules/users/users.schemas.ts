import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { LANGUAGES } from '../../common/i18n/language';
import { idSchema } from '../../lib/ids';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';
import { USER_LIMITS } from '../../db/schema/users';

const TIMEZONES = new Set(Intl.supportedValuesOf('timeZone'));

/** An IANA time zone; aliases (Asia/Kolkata, UTC) are accepted by their canonical name. */
export const timezoneSchema = z
  .string()
  .max(USER_LIMITS.timezone)
  .refine((value) => {
    try {
      const canonical = new Intl.DateTimeFormat('en', { timeZone: value }).resolvedOptions().timeZone;
      return TIMEZONES.has(value) || TIMEZONES.has(canonical) || canonical === 'UTC';
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Istanbul')
  .meta({ example: 'Europe/Istanbul' });

/** A BCP 47 language tag such as tr-TR. */
export const localeSchema = z
  .string()
  .max(USER_LIMITS.locale)
  .refine((value) => {
    try {
      return Intl.getCanonicalLocales(value).length === 1;
    } catch {
      return false;
    }
  }, 'must be a BCP 47 language tag such as tr-TR')
  .meta({ example: 'tr-TR' });

export const nameSchema = z.string().trim().min(1).max(USER_LIMITS.name);
export const languageSchema = z.enum(LANGUAGES);
export const emailSchema = z.email().max(USER_LIMITS.email).meta({ example: 'ada@example.com' });

const isoDate = z.iso.datetime({ offset: true });

export const userSchema = z
  .object({
    id: z.string().meta({ example: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    email: z.string(),
    firstName: z.string(),
    middleName: z.string().nullable(),
    lastName: z.string(),
    language: languageSchema,
    locale: z.string(),
    timezone: z.string(),
    role: z.enum(['USER', 'ADMIN']),
    status: z.enum(['INACTIVE', 'ACTIVE', 'SUSPENDED']),
    emailVerifiedAt: isoDate.nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: 'User' });

export type UserView = z.infer<typeof userSchema>;

export class UserUpdateDto extends createZodDto(
  z
    .strictObject({
      userId: idSchema('usr').optional().meta({ description: 'Another user to update; only an ADMIN may name one.' }),
      firstName: nameSchema.optional(),
      middleName: nameSchema.nullable().optional(),
      lastName: nameSchema.optional(),
      language: languageSchema.optional(),
      locale: localeSchema.optional(),
      timezone: timezoneSchema.optional(),
    })
    .meta({ id: 'UserUpdateRequest' }),
) {}

export class UserResponseEnvelopeDto extends createZodDto(z.object({ user: userSchema }).meta({ id: 'UserResponse' })) {}

/**
 * The signed-in user, with what only its owner needs to see: GET /v1/users/me and the `user` of
 * every login answer (password, cookie, two-factor verify, refresh) share this one shape.
 */
export const currentUserSchema = userSchema
  .extend({
    name: z.string().meta({ description: 'First, middle and last name, joined by spaces', example: 'Ada Lovelace' }),
    twoFactorEnabled: z.boolean().meta({ description: 'Login asks for a TOTP code after the password.' }),
  })
  .meta({ id: 'CurrentUser' });

export type CurrentUserView = z.infer<typeof currentUserSchema>;

export class MeResponseEnvelopeDto extends createZodDto(z.object({ user: currentUserSchema }).meta({ id: 'CurrentUserResponse' })) {}

export class UserListQueryDto extends createZodDto(
  paginationQuerySchema.extend({
    email: z.string().max(USER_LIMITS.email).optional().meta({ description: 'Part of the email, matched without regard to case.' }),
    status: z.enum(['INACTIVE', 'ACTIVE', 'SUSPENDED']).optional(),
  }),
) {}

export class UserPageDto extends createZodDto(pageSchema(userSchema, 'UserPage')) {}

export class UserIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('usr') })) {}

export class UserStatusUpdateDto extends createZodDto(
  z.strictObject({ status: z.enum(['INACTIVE', 'ACTIVE', 'SUSPENDED']) }).meta({ id: 'UserStatusUpdateRequest' }),
) {}

export class UserRoleUpdateDto extends createZodDto(z.strictObject({ role: z.enum(['USER', 'ADMIN']) }).meta({ id: 'UserRoleUpdateRequest' })) {}
