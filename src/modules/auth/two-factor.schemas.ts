import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { EXACTLY_ONE_OF } from '../../common/openapi/exactly-one-of';

const challengeSchema = z.string().min(1).max(200).meta({ description: 'The challenge token from the login answer.' });
const codeSchema = z
  .string()
  .regex(/^\d{6}$/, 'must be the 6 digits the authenticator app shows')
  .meta({ example: '492039' });
const recoveryCodeSchema = z.string().min(10).max(32).meta({ description: 'One of the recovery codes, each usable once.', example: 'k7m2q-x9p4t' });

/** Exactly one of `code` and `recoveryCode`, the error on the field a client would fix. */
function oneFactor(value: { code?: string; recoveryCode?: string }, context: z.core.$RefinementCtx): void {
  if ((value.code === undefined) === (value.recoveryCode === undefined)) {
    context.addIssue({ code: 'custom', path: ['code'], message: 'give either code or recoveryCode, not both', params: { code: 'ONE_FACTOR' } });
  }
}

const passwordSchema = z.string().min(1).max(128);
const enrolmentPasswordSchema = passwordSchema.optional().meta({
  description:
    'The current password, when signed in as a user who has one. A user without one (signed in only through a provider) leaves it out, and must have signed in within the last 5 minutes.',
});

/**
 * The same rule in the spec, as a oneOf (see EXACTLY_ONE_OF). The recovery code's branch is first:
 * generators build their example body from the first, and its length limits are worth fuzzing.
 */
const ONE_FACTOR_SCHEMA = { [EXACTLY_ONE_OF]: ['recoveryCode', 'code'] };

export class TwoFactorSetupDto extends createZodDto(
  z
    .strictObject({ password: enrolmentPasswordSchema, challenge: challengeSchema.optional() })
    .meta({ id: 'TwoFactorSetupRequest', description: 'The password when signed in; a TOTP_SETUP challenge otherwise.' }),
) {}

export class TwoFactorConfirmDto extends createZodDto(
  z.strictObject({ code: codeSchema, password: enrolmentPasswordSchema, challenge: challengeSchema.optional() }).meta({
    id: 'TwoFactorConfirmRequest',
    description: 'A code from the app just set up, with the password when signed in; a TOTP_SETUP challenge otherwise.',
  }),
) {}

export class TwoFactorVerifyDto extends createZodDto(
  z
    .strictObject({ challenge: challengeSchema, code: codeSchema.optional(), recoveryCode: recoveryCodeSchema.optional() })
    .superRefine(oneFactor)
    .meta({ id: 'TwoFactorVerifyRequest', ...ONE_FACTOR_SCHEMA }),
) {}

export class TwoFactorDisableDto extends createZodDto(
  z
    .strictObject({ code: codeSchema.optional(), recoveryCode: recoveryCodeSchema.optional(), password: passwordSchema })
    .superRefine(oneFactor)
    .meta({ id: 'TwoFactorDisableRequest', ...ONE_FACTOR_SCHEMA }),
) {}

export type SecondFactor = { code: string } | { recoveryCode: string };

export class TotpSetupResponseDto extends createZodDto(
  z
    .object({
      secret: z.string().meta({ description: 'Base32, for typing into the app by hand.' }),
      otpauthUrl: z.string().meta({ example: 'otpauth://totp/Gatehouse:ada%40example.com?issuer=Gatehouse&secret=…&algorithm=SHA1&digits=6&period=30' }),
      qrSvg: z.string().meta({ description: 'The otpauth URL as an SVG QR code.' }),
    })
    .meta({ id: 'TotpSetup' }),
) {}

export class RecoveryCodesResponseDto extends createZodDto(
  z
    .object({ recoveryCodes: z.array(z.string()).length(10).meta({ description: 'Shown this once; each works once in place of a code.' }) })
    .meta({ id: 'RecoveryCodes' }),
) {}
