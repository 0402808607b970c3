import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig, RateLimitPolicy } from '../../config/config';
import { ApiKeyVerifier, bearerOf } from '../auth/api-key-verifier';
import { Principal } from '../auth/principal';
import { IS_PUBLIC } from '../auth/public.decorator';
import { verifiedAccessToken, verifiedApiKey } from '../auth/request-credentials';
import { DomainError } from '../errors/domain-error';
import { Meter } from '../metering/meter';
import { ipRateLimitKey } from './client-key';
import { RATE_LIMIT_POLICY, SKIP_RATE_LIMIT } from './rate-limit.decorator';
import { RateLimiter } from './rate-limiter';

type Caller = Pick<Principal, 'userId' | 'role'>;

/**
 * First in the global chain. Each request counts against one policy: on open routes the route's
 * own (@RateLimit) or `public`, per IP; on protected routes, for a verified caller, the route's own
 * or `authenticated` (with the numbers of the caller's plan when it has its own), per user, and
 * without one `public` per IP.
 * A protected route without a verifiable token is counted per IP under `public`, so guessing
 * tokens is limited too. Headers follow the published docs: Reset is a Unix timestamp.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyVerifier,
    private readonly meter: Meter,
    private readonly limiter: RateLimiter,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.flag<boolean>(SKIP_RATE_LIMIT, context)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const { policy, key, caller } = await this.bucketFor(request, context);
    const { count, windowSeconds } = (caller && (await this.planTerms(caller))) ?? this.config.rateLimit.policies[policy];

    const taken = await this.limiter.take(policy, key, { count, windowSeconds });
    void reply.headers({
      'x-ratelimit-limit': String(taken.limit),
      'x-ratelimit-remaining': String(taken.remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + taken.secondsLeft),
    });
    if (taken.blocked) throw new DomainError('RATE_LIMITED', { params: { retryAfter: taken.secondsLeft, limit: count } });
    return true;
  }

  private flag<T>(key: string, context: ExecutionContext): T | undefined {
    return this.reflector.getAllAndOverride<T | undefined>(key, [context.getHandler(), context.getClass()]);
  }

  private async bucketFor(request: FastifyRequest, context: ExecutionContext): Promise<{ policy: RateLimitPolicy; key: string; caller?: Caller }> {
    const named = this.flag<RateLimitPolicy>(RATE_LIMIT_POLICY, context);
    const ipKey = ipRateLimitKey(request.ip);
    if (this.flag<boolean>(IS_PUBLIC, context)) return { policy: named ?? 'public', key: ipKey };
    const caller = await this.callerOf(request);
    // Without a credential that verifies, a protected route is `public` per IP, whatever its own
    // policy: a generous limit meant for a known caller must not serve credential guessing.
    if (!caller) return { policy: 'public', key: ipKey };
    if (named) return { policy: named, key: `user:${caller.userId}` };
    return { policy: 'authenticated', key: `user:${caller.userId}`, caller };
  }

  /** The caller's plan rate limit; none for ADMINs, who keep the configured default. */
  private async planTerms(caller: Caller): Promise<{ count: number; windowSeconds: number } | null> {
    if (caller.role === 'ADMIN') return null;
    // A database that cannot answer is a 503 with Retry-After, as on every other query.
    return this.meter.planRateLimit(caller.userId);
  }

  /**
   * The owner of a valid API key or access token, else nothing: one bucket per user (`user:<id>`),
   * so minting more keys buys no more requests. A token counts by its signature and claims alone;
   * the authentication guard, which reuses this verification, then checks its session.
   */
  private async callerOf(request: FastifyRequest): Promise<Caller | undefined> {
    const bearer = bearerOf(request.headers.authorization);
    if (bearer && this.apiKeys.isApiKey(bearer)) return verifiedApiKey(request, this.apiKeys, bearer).catch(() => undefined);
    const token = bearer ?? request.cookies?.[this.config.auth.cookieName];
    if (!token) return undefined;
    return verifiedAccessToken(request, token, this.config.auth).principal;
  }
}
