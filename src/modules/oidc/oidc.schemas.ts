import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { idSchema } from '../../lib/ids';
import { pageLinkSchema } from '../../common/validation/links';
import { IDENTITY_LIMITS } from '../../db/schema/user-identities';

export class OidcProviderParamsDto extends createZodDto(
  z.strictObject({ provider: z.string().max(IDENTITY_LIMITS.provider).meta({ description: 'A name from OIDC_PROVIDERS', example: 'authentik' }) }),
) {}

export class OidcAuthorizeQueryDto extends createZodDto(
  z.strictObject({
    redirect: pageLinkSchema.meta({
      description: 'Where the browser lands after sign-in (origin in ALLOWED_LINK_ORIGINS); on failure with ?error=<code>.',
      example: 'https://app.example.com/signed-in',
    }),
  }),
) {}

/** What the provider appends to the redirect URI; other parameters a provider adds are let through. */
export class OidcCallbackQueryDto extends createZodDto(
  z.looseObject({
    code: z.string().max(2048).optional(),
    state: z.string().max(512).optional(),
    iss: z.string().max(2048).optional(),
    error: z.string().max(256).optional(),
    error_description: z.string().max(2048).optional(),
  }),
) {}

const identitySchema = z
  .object({
    id: z.string().meta({ example: 'idn_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    provider: z.string().meta({ example: 'authentik' }),
    email: z.string().nullable().meta({ description: 'The email the provider gave when the identity was linked' }),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'UserIdentity' });

export type UserIdentityView = z.infer<typeof identitySchema>;

export class UserIdentityListDto extends createZodDto(z.object({ items: z.array(identitySchema) }).meta({ id: 'UserIdentityList' })) {}

export class UserIdentityIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('idn') })) {}
