import { z } from 'zod';
import { invalidField } from '../errors/field-issues';

/** An absolute http(s) URL for a page of the vendor's app that our mails will link to. */
export const pageLinkSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .meta({ example: 'https://app.example.com/reset-password' });

/**
 * Refuses a link whose origin is not in ALLOWED_LINK_ORIGINS, so our mail cannot carry a
 * token to someone else's site (422 on that field). The message names the allowed origins: they
 * are this server's own configuration, and a developer needs them to fix the call.
 */
export function assertAllowedLink(field: string, link: string, allowedOrigins: string[]): void {
  if (!allowedOrigins.includes(new URL(link).origin)) {
    const origins = allowedOrigins.join(', ');
    throw invalidField(field, 'LINK_ORIGIN_NOT_ALLOWED', { fallback: `Links must point to an allowed origin: ${origins}` }, { origins });
  }
}

/** `link?name=value&…`, keeping any query the link already has. */
export function linkWith(link: string, params: Record<string, string>): string {
  const url = new URL(link);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}
