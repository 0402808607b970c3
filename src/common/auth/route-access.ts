import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import type { RateLimitPolicy } from '../../config/config';
import type { MeteredEndpoint } from '../metering/meter';
import { API_KEY_SCOPES, ApiKeyScope, Role } from './principal';

/** Where @Public / @Authenticated leave a route's access, for the plan compiled at boot. */
export const ROUTE_ACCESS = 'gatehouse:routeAccess';

export interface PublicOptions {
  /** A named limit (RATE_LIMIT_<NAME>) instead of `public`, per IP. */
  rateLimit?: RateLimitPolicy;
  /** For health probes and the Stripe webhook only: never refused by the limiter. */
  skipRateLimit?: boolean;
}

export interface AuthenticatedOptions {
  /** Only these roles (403 FORBIDDEN otherwise); a route without roles is open to any caller. */
  roles?: Role[];
  /** Opens the route to a `verify`-scope key, which every other route refuses (the access check's). */
  verifyKey?: boolean;
  /** Open to users whose account is not ACTIVE yet (reading itself, editing its profile, activating). */
  allowInactive?: boolean;
  /**
   * `'integration.products.getAll'`: a paid endpoint, each non-ADMIN call counted against the plan's
   * limit for it. `'unmetered'`: never counted against the free tier's daily cap. Left out: the
   * free tier's daily cap only.
   */
  metered?: string | MeteredEndpoint;
  /** The 2FA enrolment routes: a request without a credential but with a setup `challenge` gets through. */
  acceptsSetupChallenge?: boolean;
  /** A named limit per user instead of `authenticated` (the plan's). */
  rateLimit?: RateLimitPolicy;
}

export type RouteAccess = ({ kind: 'public' } & PublicOptions) | ({ kind: 'authenticated' } & AuthenticatedOptions);

/** What a route's access means once its HTTP method is known: what the guard runs and the docs say. */
export interface AccessPlan {
  public: boolean;
  /** The limiter's policy; undefined: not rate-limited. For an authenticated route, the named one if any. */
  rateLimit: RateLimitPolicy | undefined;
  skipRateLimit: boolean;
  roles: Role[] | null;
  /** The key scopes that may make this request. */
  keyScopes: readonly ApiKeyScope[];
  allowInactive: boolean;
  /** Only on writes: a cookie-authenticated write must pass the CSRF origin check. */
  csrf: boolean;
  metered: MeteredEndpoint | null;
  unmetered: boolean;
  acceptsSetupChallenge: boolean;
}

const READ_METHODS = new Set<RequestMethod>([RequestMethod.GET, RequestMethod.HEAD, RequestMethod.OPTIONS]);

/** The scopes of each kind of request, ordered; a verify key only where the route opens to it. */
const SCOPES_FOR: Record<'read' | 'write' | 'admin', ApiKeyScope[]> = {
  read: ['read-only', 'read-write', 'admin'],
  write: ['read-write', 'admin'],
  admin: ['admin'],
};

/** The access of a route with its method, resolved once (by the decorator for the docs, at boot for the guard). */
export function planOf(access: RouteAccess, method: RequestMethod): AccessPlan {
  if (access.kind === 'public') {
    return {
      public: true,
      rateLimit: access.skipRateLimit ? undefined : (access.rateLimit ?? 'public'),
      skipRateLimit: access.skipRateLimit === true,
      roles: null,
      keyScopes: API_KEY_SCOPES,
      allowInactive: true,
      csrf: false,
      metered: null,
      unmetered: true,
      acceptsSetupChallenge: false,
    };
  }
  const roles = access.roles?.length ? access.roles : null;
  const kind = roles && !roles.includes('USER') ? 'admin' : READ_METHODS.has(method) ? 'read' : 'write';
  const metered = typeof access.metered === 'string' && access.metered !== 'unmetered' ? { apiVersion: 'v1', endpoint: access.metered } : access.metered;
  return {
    public: false,
    rateLimit: access.rateLimit,
    skipRateLimit: false,
    roles,
    keyScopes: access.verifyKey ? ['verify', ...SCOPES_FOR[kind]] : SCOPES_FOR[kind],
    allowInactive: access.allowInactive === true,
    csrf: !READ_METHODS.has(method),
    metered: typeof metered === 'object' ? metered : null,
    unmetered: metered === 'unmetered',
    acceptsSetupChallenge: access.acceptsSetupChallenge === true,
  };
}

/** The HTTP method of a handler, as @Get/@Post/... left it; undefined when the decorator sits below them. */
export const methodOf = (handler: object): RequestMethod | undefined => Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
