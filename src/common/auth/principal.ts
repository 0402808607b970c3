import type { Language } from '../i18n/language';

export type Role = 'USER' | 'ADMIN';
export type UserStatus = 'INACTIVE' | 'ACTIVE' | 'SUSPENDED';
export type ApiKeyScope = 'read-only' | 'read-write' | 'admin';

interface PrincipalBase {
  /** The user acting, or owning the API key. */
  userId: string;
  /** The role this request acts with: for a key, its owner's role capped by the key's scope. */
  role: Role;
  status: UserStatus;
  language: Language;
}

export interface UserPrincipal extends PrincipalBase {
  kind: 'user';
  /** The login this access token came from (its refresh-token family). */
  sessionId: string;
  locale: string;
  timezone: string;
}

export interface ApiKeyPrincipal extends PrincipalBase {
  kind: 'apiKey';
  apiKeyId: string;
  scope: ApiKeyScope;
  environment: 'live' | 'test';
}

/** Who is calling, as the authentication guard established it. */
export type Principal = UserPrincipal | ApiKeyPrincipal;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication guard on protected routes. */
    principal?: Principal;
  }
}

/**
 * The owner filter for owned resources: undefined (everyone's) for an ADMIN, whether a user or an
 * admin-scope key of one; otherwise the caller's own user id.
 */
export const ownerScope = (principal: Principal): string | undefined => (principal.role === 'ADMIN' ? undefined : principal.userId);
