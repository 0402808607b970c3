import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig, InjectConfig, RateLimitPolicy } from '../../config/config';
import { verifyAccessToken } from '../auth/access-token';
import { IS_PUBLIC } from '../auth/public.decorator';
import { DomainError } from '../errors/domain-error';
import { ipRateLimitKey } from './client-key';
import { RATE_LIMIT_POLICY, SKIP_RATE_LIMIT } from './rate-limit.decorator';

export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');

/**
 * First in the global chain. Each request counts against one policy: the route's own
 * (@RateLimit), else `authenticated` per principal on protected routes, else `public` per IP.
 * A protected route without a verifiable token is counted per IP under `public`, so guessing
 * tokens is limited too. Headers follow the published docs: Reset is a Unix timestamp.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(RATE_LIMIT_STORAGE) private readonly storage: ThrottlerStorage,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.flag<boolean>(SKIP_RATE_LIMIT, context)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const { policy, key } = this.bucketFor(request, context);
    const { count, windowSeconds } = this.config.rateLimit.policies[policy];

    const record = await this.storage.increment(key, windowSeconds * 1000, count, windowSeconds * 1000, policy);
    const secondsLeft = Math.max(1, record.isBlocked ? record.timeToBlockExpire : record.timeToExpire);
    void reply.headers({
      'x-ratelimit-limit': String(count),
      'x-ratelimit-remaining': String(Math.max(0, count - record.totalHits)),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + secondsLeft),
    });
    if (record.isBlocked) throw new DomainError('RATE_LIMITED', { headers: { 'retry-after': String(secondsLeft) } });
    return true;
  }

  private flag<T>(key: string, context: ExecutionContext): T | undefined {
    return this.reflector.getAllAndOverride<T | undefined>(key, [context.getHandler(), context.getClass()]);
  }

  private bucketFor(request: FastifyRequest, context: ExecutionContext): { policy: RateLimitPolicy; key: string } {
    const named = this.flag<RateLimitPolicy>(RATE_LIMIT_POLICY, context);
    const ipKey = ipRateLimitKey(request.ip);
    if (named) return { policy: named, key: ipKey };
    if (this.flag<boolean>(IS_PUBLIC, context)) return { policy: 'public', key: ipKey };
    const principal = this.principalOf(request);
    return principal ? { policy: 'authenticated', key: `user:${principal.userId}` } : { policy: 'public', key: ipKey };
  }

  private principalOf(request: FastifyRequest) {
    const header = request.headers.authorization;
    const token = header && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '') : request.cookies?.[this.config.auth.cookieName];
    if (!token) return undefined;
    const { jwtSecret: secret, issuer, audience } = this.config.auth;
    return verifyAccessToken(token, { secret, issuer, audience });
  }
}
