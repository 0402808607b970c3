import { apiKeyScope } from '../../db/schema/api-keys';
import type { OwnerScope } from '../../db/owner-scope';
import { DomainError } from '../errors/domain-error';
import type { Language } from '../i18n/language';

export type Role = 'USER' | 'ADMIN';
export type UserStatus = 'INACTIVE' | 'ACTIVE' | 'SUSPENDED';
/** `verify`: POST /v1/access/verify only (an ADMIN's key for a vendor's server); the others are ordered, each allowing more. */
export const API_KEY_SCOPES = apiKeyScope.enumValues;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

interface PrincipalBase {
  /** The user acting, or owning the API key. */
  userId: string;
  /**
   * The role this request acts with: for a key, its owner's role capped by the key's scope (an
   * ADMIN's verify key is ADMIN on the one route its scope reaches).
   */
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

/** Who is calling, as the route guard established it. */
export type Principal = UserPrincipal | ApiKeyPrincipal;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the route guard on protected routes. */
    principal?: Principal;
  }
}

/** Defined beside the queries that take it (db/ is below common/). */
export type { OwnerScope };

/**
 * The one "own, or any for an ADMIN" rule. Everyone's rows for an ADMIN (a user, or an admin-scope
 * key of one), or only those of the owner it names in `narrowTo`; otherwise the caller's own, and
 * a `narrowTo` from anyone else is ignored rather than refused (a list filter, not a request to act for someone).
 */
export const ownerScope = (principal: Principal, narrowTo?: string): OwnerScope => {
  if (principal.role !== 'ADMIN') return { userId: principal.userId };
  return narrowTo === undefined ? { all: true } : { userId: narrowTo };
};

/** A known user's rows (an ADMIN acting on a user it names, or a path that already checked ownership). */
export const ownedBy = (userId: string): OwnerScope => ({ userId });

/** Every tenant's rows: only for ADMIN routes, which the route guard has already admitted. */
export const EVERY_OWNER: OwnerScope = { all: true };

/**
 * Whom a self-service request acts for: the caller, unless the body or query names another user,
 * which only an ADMIN may do (anyone else gets 403 FORBIDDEN, as before the id became optional).
 */
export function actingUserId(principal: Principal, named: string | undefined): string {
  if (named === undefined || named === principal.userId) return principal.userId;
  if (principal.role !== 'ADMIN') throw new DomainError('FORBIDDEN');
  return named;
}
