import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig, RateLimitPolicy } from '../../config/config';
import { DomainError } from '../errors/domain-error';
import { IdempotencyService, parseIdempotencyKey } from '../idempotency/idempotency.service';
import { Meter, PendingCharge } from '../metering/meter';
import { ipRateLimitKey } from '../throttling/client-key';
import { RateLimiter } from '../throttling/rate-limiter';
import { assertValidInputs, RouteInputs } from '../validation/route-inputs';
import { AccessTokenCheck, accessTokenOf } from './access-token';
import { ApiKeyVerifier, bearerOf } from './api-key-verifier';
import { allowedOrigins, isSameSiteRequest } from './csrf';
import { AccessTokenStrategy, ApiKeyStrategy } from './passport-strategies';
import type { Principal } from './principal';
import type { RoutePlan } from './route-plans';
import { verifiedApiKey } from './request-credentials';
import { SessionVerifier } from './session-verifier';

/** The credential a request presents, read once from its headers. */
interface Presented {
  /** A bearer value with the API key prefix. */
  apiKey?: string;
  /** The access token (bearer, else the cookie), and whether it came from the cookie. */
  token?: string;
  viaCookie: boolean;
}

/** What the guard needs of a route, settled at boot (RouteExecutor compiles it with the route). */
export interface GuardedRoute {
  plan: RoutePlan;
  /** The route's body, query and path inputs, refused here before a metered call is counted. */
  inputs: RouteInputs;
}

/**
 * The one guard, deny by default: throttle, then authenticate, then authorize, then meter, so a
 * refused call is never counted. RouteExecutor calls it first on every controller route, with the
 * route's plan compiled at boot from its @Public() / @Authenticated() (a route with neither fails
 * the boot): a request costs no metadata lookup at all.
 */
@Injectable()
export class RouteGuard {
  private readonly origins: string[];

  constructor(
    private readonly accessTokens: AccessTokenStrategy,
    private readonly apiKeys: ApiKeyStrategy,
    private readonly keys: ApiKeyVerifier,
    private readonly sessions: SessionVerifier,
    private readonly meter: Meter,
    private readonly limiter: RateLimiter,
    private readonly idempotency: IdempotencyService,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.origins = allowedOrigins(config);
  }

  /** Resolves when the request may reach its handler; throws the DomainError that refuses it. */
  async admit(route: GuardedRoute, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { plan } = route;
    if (plan.public) {
      if (plan.rateLimit) await this.throttle(reply, plan.rateLimit, ipRateLimitKey(request.ip), this.config.rateLimit.policies[plan.rateLimit]);
      if (plan.idempotent) await this.idempotency.admit(request, undefined);
      return;
    }

    const presented = this.presented(request);
    const keyCheck = presented.apiKey === undefined ? undefined : verifiedApiKey(request, this.apiKeys, presented.apiKey);
    const tokenCheck = presented.token === undefined ? undefined : await this.accessTokens.check(request);
    await this.throttleCaller(request, reply, plan, keyCheck ? await keyCheck.catch(() => undefined) : tokenCheck?.principal);

    const principal = keyCheck ? await keyCheck : await this.authenticateUser(request, plan, presented, tokenCheck);
    if (!principal) return;
    request.principal = principal;
    this.authorize(request, plan, principal);
    const deferred = await this.charge(route, request, reply, principal);
    if (plan.idempotent) await this.idempotency.admit(request, deferred);
  }

  /**
   * An API key is a bearer value with the key prefix; otherwise the access token is everything
   * after a `Bearer` scheme, else the login cookie.
   */
  private presented(request: FastifyRequest): Presented {
    const bearer = bearerOf(request.headers.authorization);
    if (bearer && this.keys.isApiKey(bearer)) return { apiKey: bearer, viaCookie: false };
    const token = accessTokenOf(request, this.config.auth.cookieName);
    return { token, viaCookie: token !== undefined && !/^\s*Bearer\s/i.test(request.headers.authorization ?? '') };
  }

  /**
   * A verified caller counts per user (`user:<id>`, so more keys buy no more requests), under the
   * route's named limit or else `authenticated` with its plan's numbers (an ADMIN keeps the
   * default). Without one, a protected route is `public` per IP whatever its own limit: a limit
   * meant for a known caller must not serve credential guessing. A token counts by its signature
   * and claims alone; its session is checked after.
   */
  private async throttleCaller(request: FastifyRequest, reply: FastifyReply, plan: RoutePlan, caller: Principal | undefined): Promise<void> {
    if (!caller) return this.throttle(reply, 'public', ipRateLimitKey(request.ip), this.config.rateLimit.policies.public);
    if (plan.rateLimit) return this.throttle(reply, plan.rateLimit, `user:${caller.userId}`, this.config.rateLimit.policies[plan.rateLimit]);
    // A database that cannot answer is a 503 with Retry-After, as on every other query.
    const own = caller.role === 'ADMIN' ? null : await this.meter.planRateLimit(caller.userId);
    return this.throttle(reply, 'authenticated', `user:${caller.userId}`, own ?? this.config.rateLimit.policies.authenticated);
  }

  /** Counts the request; the headers follow the published docs (Reset is a Unix timestamp). */
  private async throttle(reply: FastifyReply, policy: RateLimitPolicy, key: string, terms: { count: number; windowSeconds: number }): Promise<void> {
    const taken = await this.limiter.take(policy, key, terms);
    void reply.headers({
      'x-ratelimit-limit': String(taken.limit),
      'x-ratelimit-remaining': String(taken.remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + taken.secondsLeft),
    });
    if (taken.blocked) throw new DomainError('RATE_LIMITED', { params: { retryAfter: taken.secondsLeft, limit: terms.count } });
  }

  /**
   * A user by access token: cookie writes must pass the CSRF origin check; a valid token is not
   * enough on its own (its login must still be live, and it acts with the user's current role).
   * Undefined only on an enrolment route reached with a setup challenge instead of a credential.
   */
  private async authenticateUser(
    request: FastifyRequest,
    plan: RoutePlan,
    presented: Presented,
    check: AccessTokenCheck | undefined,
  ): Promise<Principal | undefined> {
    if (presented.viaCookie && plan.csrf && !isSameSiteRequest(request, this.origins)) throw new DomainError('CSRF_REJECTED');
    if (!check) {
      if (plan.acceptsSetupChallenge && typeof (request.body as { challenge?: unknown } | undefined)?.challenge === 'string') return undefined;
      throw new DomainError('UNAUTHORIZED');
    }
    if (check.failure) throw new DomainError(check.failure);
    return this.sessions.verify(check.principal);
  }

  /**
   * A key's scope must allow the request (a read-only key only reads, a verify key only checks
   * keys); an account that is not ACTIVE reaches only routes open to it; then the route's roles
   * (a key's role is already capped by its scope).
   */
  private authorize(request: FastifyRequest, plan: RoutePlan, principal: Principal): void {
    if (principal.kind === 'apiKey' && !plan.keyScopes.includes(principal.scope)) {
      throw new DomainError('INSUFFICIENT_SCOPE', { params: { scope: principal.scope, required: [...plan.keyScopes] } });
    }
    if (principal.status !== 'ACTIVE' && !plan.allowInactive) {
      throw new DomainError(principal.status === 'SUSPENDED' ? 'ACCOUNT_SUSPENDED' : 'ACCOUNT_NOT_ACTIVE');
    }
    if (plan.roles && !plan.roles.includes(principal.role)) throw new DomainError('FORBIDDEN');
  }

  /**
   * ADMINs are not metered. A call is counted only once it is known to be new and valid: input the
   * pipeline will refuse is refused here first, and on an @Idempotent route the count is left to
   * the key's claim (returned, for IdempotencyService.admit), so a replay or a 409 costs nothing.
   * The count still comes before the handler: a call over quota never runs.
   */
  private async charge(route: GuardedRoute, request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<PendingCharge | undefined> {
    const { plan } = route;
    if (principal.role === 'ADMIN' || plan.unmetered) return undefined;
    const charge = await this.meter.admit(request, reply, principal, plan.metered);
    if (!charge) return undefined;
    const idempotencyKey = plan.idempotent ? request.headers['idempotency-key'] : undefined;
    // What the pipeline would refuse is refused before the count, with the same answers: a bad key header, then bad input.
    if (idempotencyKey !== undefined) parseIdempotencyKey(idempotencyKey);
    assertValidInputs(request, route.inputs);
    if (plan.idempotent) return charge;
    await charge.take();
    return undefined;
  }
}
