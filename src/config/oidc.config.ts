import { z } from 'zod';

/** One configured OIDC provider, from `OIDC_<NAME>_*`. */
export interface OidcProviderConfig {
  /** The name in `OIDC_PROVIDERS` and in the routes' `{provider}`. */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
}

/** A provider name is a path segment and part of an environment variable name. */
export const OIDC_PROVIDER_NAME = /^[a-z][a-z0-9_]{0,31}$/;

const providerEnv = (allowHttp: boolean) =>
  z.object({
    ISSUER: z.url({
      protocol: allowHttp ? /^https?$/ : /^https$/,
      error: allowHttp ? 'must be an http:// or https:// URL' : 'must be an https:// URL (http only with OIDC_ALLOW_HTTP_ISSUERS=true, outside production)',
    }),
    CLIENT_ID: z.string().min(1).max(255),
    CLIENT_SECRET: z.string().min(1).max(1024),
    SCOPES: z
      .string()
      .regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, 'must be space-separated scopes')
      .refine((value) => value.split(' ').includes('openid'), 'must include openid')
      .default('openid email profile'),
  });

/**
 * The per-provider variables of every name in OIDC_PROVIDERS. Their names depend on that list, so
 * they are checked here rather than in envSchema; each problem is pushed to `problems` by variable.
 */
export function parseOidcProviders(names: string[], source: Record<string, string | undefined>, allowHttp: boolean, problems: string[]): OidcProviderConfig[] {
  const providers: OidcProviderConfig[] = [];
  for (const name of names) {
    const prefix = `OIDC_${name.toUpperCase()}_`;
    const result = providerEnv(allowHttp).safeParse({
      ISSUER: source[`${prefix}ISSUER`],
      CLIENT_ID: source[`${prefix}CLIENT_ID`],
      CLIENT_SECRET: source[`${prefix}CLIENT_SECRET`],
      SCOPES: source[`${prefix}SCOPES`],
    });
    if (!result.success) {
      for (const issue of result.error.issues) {
        const message = issue.code === 'invalid_type' ? `required for OIDC provider "${name}"` : issue.message;
        problems.push(`${prefix}${issue.path.join('.')}: ${message}`);
      }
      continue;
    }
    const env = result.data;
    providers.push({ name, issuer: env.ISSUER, clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, scopes: env.SCOPES });
  }
  return providers;
}
