import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { emailSchema, languageSchema, localeSchema, nameSchema, timezoneSchema } from '../users/users.schemas';
import { pageLinkSchema } from '../../common/validation/links';
import { isCommonPassword } from './common-passwords';

/** 8-128 characters, never trimmed, and not one of the 10,000 most common passwords. */
export const newPasswordSchema = z
  .string()
  .min(8)
  .max(128)
  .refine((value) => !isCommonPassword(value), { message: 'This password is too common', params: { code: 'COMMON_PASSWORD' } })
  .meta({ example: 'correct horse battery staple' });

export class RegisterDto extends createZodDto(
  z
    .strictObject({
      email: emailSchema,
      password: newPasswordSchema,
      firstName: nameSchema,
      middleName: nameSchema.optional(),
      lastName: nameSchema,
      language: languageSchema,
      locale: localeSchema,
      timezone: timezoneSchema,
    })
    .meta({ id: 'RegisterRequest' }),
) {}

export class LoginDto extends createZodDto(z.strictObject({ email: emailSchema, password: z.string().min(1).max(128) }).meta({ id: 'LoginRequest' })) {}

export class RefreshDto extends createZodDto(
  z
    .strictObject({ refreshToken: z.string().min(1).max(200).optional() })
    .meta({ id: 'RefreshRequest', description: 'The refresh token, or nothing when it comes in the refresh cookie.' }),
) {}

const tokenSchema = z.object({ token: z.string(), expirationDate: z.iso.datetime({ offset: true }) });

/** Field names follow the published integration docs. */
export const sessionSchema = z
  .object({
    accessToken: tokenSchema,
    refreshToken: tokenSchema,
    requiredAuthenticatorType: z.enum(['TOTP']).nullable().meta({ description: 'The second factor required to finish logging in; always null for now.' }),
    user: z.object({
      id: z.string(),
      email: z.string(),
      name: z.string(),
      role: z.enum(['USER', 'ADMIN']),
      status: z.enum(['INACTIVE', 'ACTIVE', 'SUSPENDED']),
      language: languageSchema,
      locale: z.string(),
      timezone: z.string(),
    }),
  })
  .meta({ id: 'Session' });

export type Session = z.infer<typeof sessionSchema>;

export class SessionResponseDto extends createZodDto(sessionSchema) {}

export class PasswordResetRequestDto extends createZodDto(
  z.strictObject({ email: emailSchema, resetPageLink: pageLinkSchema }).meta({ id: 'PasswordResetRequest' }),
) {}

export class PasswordResetDto extends createZodDto(
  z.strictObject({ token: z.string().min(1).max(200), newPassword: newPasswordSchema }).meta({ id: 'PasswordReset' }),
) {}
