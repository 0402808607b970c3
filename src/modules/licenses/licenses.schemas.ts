import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';
import { isoDateTimeInput } from '../../common/validation/dates';
import { LICENSE_LIMITS } from '../../db/schema/licenses';

export const VALIDATION_CODES = [
  'VALID',
  'NOT_FOUND',
  'EXPIRED',
  'SUSPENDED',
  'REVOKED',
  'FINGERPRINT_SCOPE_MISMATCH',
  'NO_ACTIVATION',
  'PRODUCT_SCOPE_MISMATCH',
  'GEO_RESTRICTED',
] as const;
export type ValidationCode = (typeof VALIDATION_CODES)[number];

const isoDate = z.iso.datetime({ offset: true });
const keyInput = z.string().trim().min(1).max(64).meta({ example: 'K7P2M-9XQ4R-T8W3N-5JH6B-2VC9D' });
const fingerprint = z.string().trim().min(1).max(LICENSE_LIMITS.fingerprint);

/** What anyone holding the key may learn: nothing about the buyer or the order. */
const publicLicenseFields = {
  id: z.string().meta({ example: 'lic_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
  keyPrefix: z.string().meta({ description: 'The first group of the key' }),
  productId: z.string(),
  status: z.enum(['ACTIVE', 'SUSPENDED', 'REVOKED']),
  expired: z.boolean(),
  maxActivations: z.number().int(),
  expiresAt: isoDate.nullable(),
  lastValidatedAt: isoDate.nullable(),
  createdAt: isoDate,
};

const licenseFields = { ...publicLicenseFields, userId: z.string(), orderId: z.string().nullable() };

export const licenseSchema = z.object(licenseFields).meta({ id: 'License' });

/** An activation as its machine sees it, without the IP it was made from. */
const publicActivationFields = {
  id: z.string(),
  fingerprint: z.string(),
  name: z.string().nullable(),
  platform: z.string().nullable(),
  createdAt: isoDate,
  lastValidatedAt: isoDate.nullable(),
};

export const activationSchema = z.object({ ...publicActivationFields, ip: z.string() }).meta({ id: 'Activation' });

export class LicenseValidateDto extends createZodDto(
  z.strictObject({ key: keyInput, fingerprint: fingerprint.optional(), productId: idSchema('prd').optional() }).meta({ id: 'LicenseValidateRequest' }),
) {}

export class LicenseValidationResponseDto extends createZodDto(
  z
    .object({
      valid: z.boolean(),
      code: z.enum(VALIDATION_CODES),
      detail: z.string(),
      // Inline rather than a $ref: OpenAPI 3.0 cannot mark a $ref nullable.
      license: z.object(publicLicenseFields).nullable(),
      certificate: z.string().optional().meta({ description: 'On VALID: an Ed25519-signed compact JWS to check offline against GET /v1/licenses/jwks' }),
    })
    .meta({ id: 'LicenseValidation' }),
) {}

export class LicenseActivateDto extends createZodDto(
  z
    .strictObject({
      key: keyInput,
      fingerprint,
      name: z.string().trim().min(1).max(LICENSE_LIMITS.name).optional(),
      platform: z.string().trim().min(1).max(LICENSE_LIMITS.platform).optional(),
    })
    .meta({ id: 'LicenseActivateRequest' }),
) {}

export class LicenseDeactivateDto extends createZodDto(z.strictObject({ key: keyInput, fingerprint }).meta({ id: 'LicenseDeactivateRequest' })) {}

export class ActivationResponseDto extends createZodDto(
  z.object({ activation: z.object(publicActivationFields).meta({ id: 'PublicActivation' }) }).meta({ id: 'ActivationResponse' }),
) {}

export class LicenseGrantDto extends createZodDto(
  z
    .strictObject({
      productId: idSchema('prd'),
      userId: idSchema('usr'),
      expiresAt: isoDateTimeInput
        .nullable()
        .optional()
        .meta({ description: "Between 1970 and 9999; null: never. Default: from the product's licenseDurationDays" }),
      maxActivations: z.number().int().min(1).max(100_000).optional(),
    })
    .meta({ id: 'LicenseGrantRequest' }),
) {}

export class LicenseUpdateDto extends createZodDto(
  z
    .strictObject({ expiresAt: isoDateTimeInput.nullable().optional(), maxActivations: z.number().int().min(1).max(100_000).optional() })
    .meta({ id: 'LicenseUpdateRequest' }),
) {}

export class LicenseGrantedResponseDto extends createZodDto(
  licenseSchema.extend({ key: z.string().meta({ description: 'The full key, shown this once' }) }).meta({ id: 'LicenseGranted' }),
) {}

export class LicenseDetailResponseDto extends createZodDto(licenseSchema.extend({ activations: z.array(activationSchema) }).meta({ id: 'LicenseDetail' })) {}

export class LicenseResponseDto extends createZodDto(licenseSchema) {}
export class LicensePageDto extends createZodDto(pageSchema(licenseSchema, 'LicensePage')) {}
export class LicenseListQueryDto extends createZodDto(paginationQuerySchema) {}
export class LicenseIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('lic') })) {}

export class JwksResponseDto extends createZodDto(
  z
    .object({ keys: z.array(z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() })) })
    .meta({ id: 'Jwks' }),
) {}
