import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { currentUserSchema, emailSchema, languageSchema, localeSchema, nameSchema, timezoneSchema } from '../users/users.schemas';
import { pageLinkSchema } from '../../common/validation/links';
import { isCommonPassword } from './common-passwords';
import type { TokenPair } from './tokens.service';

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
    requiredAuthenticatorType: z
      .enum(['TOTP', 'TOTP_SETUP'])
      .nullable()
      .meta({ description: 'Null on a session: no second factor is due, the login is complete.' }),
    user: currentUserSchema,
  })
  .meta({ id: 'Session' });

export type Session = z.infer<typeof sessionSchema>;

/** The answer to a correct password when a second factor is due: no tokens and no cookies yet. */
export const twoFactorChallengeAnswerSchema = z
  .object({
    // Null, always: OpenAPI 3.0 has no null type, so the spec says nullable.
    accessToken: tokenSchema.nullable(),
    refreshToken: tokenSchema.nullable(),
    requiredAuthenticatorType: z.enum(['TOTP', 'TOTP_SETUP']).meta({
      description:
        'TOTP: send a code (or a recovery code) with the challenge to POST /v1/auth/2fa/verify. TOTP_SETUP: an ADMIN must enrol first ' +
        '(REQUIRE_2FA_FOR_ADMINS): send the challenge to POST /v1/auth/2fa/totp/setup and /confirm, then log in again.',
    }),
    challenge: tokenSchema.meta({ description: 'Single-use, valid for 5 minutes; void after 5 wrong codes.' }),
  })
  .meta({ id: 'TwoFactorChallenge' });

export type TwoFactorChallengeAnswer = z.infer<typeof twoFactorChallengeAnswerSchema>;

export const loginAnswerSchema = z.union([sessionSchema, twoFactorChallengeAnswerSchema]).meta({ id: 'LoginAnswer' });

export type LoginAnswer = z.infer<typeof loginAnswerSchema>;

export const LoginAnswerDto = createZodDto(loginAnswerSchema);

/** How a sign-in ends: the answer, and the tokens to set as cookies when it opened a session. */
export type SessionSignIn = { answer: Session; tokens: TokenPair };
export type SignIn = SessionSignIn | { answer: TwoFactorChallengeAnswer; tokens: null };

export class SessionResponseDto extends createZodDto(sessionSchema) {}

export class PasswordResetRequestDto extends createZodDto(
  z
    .strictObject({
      email: emailSchema,
      resetPageLink: pageLinkSchema.optional().meta({
        description:
          "The page the mailed link opens, with `?token=…` added; its origin must be in ALLOWED_LINK_ORIGINS. Left out: PASSWORD_RESET_PAGE_URL, by default Gatehouse's own page at /reset-password.",
        example: 'https://app.example.com/reset-password',
      }),
    })
    .meta({ id: 'PasswordResetRequest' }),
) {}

export class PasswordResetDto extends createZodDto(
  z.strictObject({ token: z.string().min(1).max(200), newPassword: newPasswordSchema }).meta({ id: 'PasswordReset' }),
) {}
