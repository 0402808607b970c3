import { Injectable } from '@nestjs/common';
import { ApiKeyVerifier, KeyInspection } from '../../common/auth/api-key-verifier';
import { ApiKeyPrincipal } from '../../common/auth/principal';
import { Clock } from '../../common/clock';
import { iso, isoOrNull } from '../../common/iso';
import { RateLimiter } from '../../common/throttling/rate-limiter';
import { AppConfig, InjectConfig } from '../../config/config';
import { ApiKeyUsageService } from '../api-keys/api-key-usage.service';
import { AccessCode, AccessDecision, AccessVerifyDto } from './access.schemas';
import { Entitlement, EntitlementsService } from './entitlements.service';
import { MeterRefusal, MeterService, QuotaState } from './meter.service';

const KEY_CODES: Record<Exclude<KeyInspection['outcome'], 'VALID'>, AccessCode> = {
  UNKNOWN: 'KEY_INVALID',
  REVOKED: 'KEY_REVOKED',
  OWNER_SUSPENDED: 'KEY_REVOKED',
  EXPIRED: 'KEY_EXPIRED',
};

/** The meter's refusals keep the names they have on Gatehouse's own metered routes. */
const REFUSAL_CODES: Record<MeterRefusal, AccessCode> = {
  SUBSCRIPTION_REQUIRED: 'SUBSCRIPTION_REQUIRED',
  PAST_DUE: 'PAST_DUE',
  GEO_RESTRICTED: 'GEO_RESTRICTED',
  ENDPOINT_NOT_IN_PLAN: 'ENDPOINT_NOT_IN_PLAN',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
};

/** The HTTP status the same refusal gets on Gatehouse's own routes, for the key's usage statistics. */
const USAGE_STATUS: Record<AccessCode, number> = {
  ALLOWED: 200,
  KEY_INVALID: 401,
  KEY_EXPIRED: 401,
  KEY_REVOKED: 401,
  INSUFFICIENT_SCOPE: 403,
  ACCOUNT_NOT_ACTIVE: 403,
  ENDPOINT_NOT_IN_PLAN: 403,
  SUBSCRIPTION_REQUIRED: 403,
  PAST_DUE: 403,
  GEO_RESTRICTED: 403,
  QUOTA_EXCEEDED: 429,
  RATE_LIMITED: 429,
};

type RateLimitState = NonNullable<AccessDecision['rateLimit']>;

/**
 * POST /v1/access/verify: may this customer's key make this call to the vendor's API? Checks run
 * cheapest first and stop at the first refusal: the key, the plan, the place, the endpoint, the
 * plan's rate, and last the quota, so a denied check never consumes quota.
 */
@Injectable()
export class AccessService {
  constructor(
    private readonly keys: ApiKeyVerifier,
    private readonly meter: MeterService,
    private readonly entitlements: EntitlementsService,
    private readonly usage: ApiKeyUsageService,
    private readonly clock: Clock,
    private readonly rateLimiter: RateLimiter,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async verify(dto: AccessVerifyDto, request: { ip: string; userAgent: string | undefined; requestId: string }): Promise<AccessDecision> {
    const started = performance.now();
    const inspection = await this.keys.inspect(dto.key);
    const decision = await this.decide(dto, inspection);
    if (inspection.outcome !== 'UNKNOWN') {
      this.usage.record({
        keyId: inspection.outcome === 'VALID' ? inspection.principal.apiKeyId : inspection.apiKeyId,
        at: this.clock.now(),
        method: 'VERIFY',
        route: `${dto.apiVersion} ${dto.endpoint}`,
        status: USAGE_STATUS[decision.code],
        latencyMs: Math.round(performance.now() - started),
        ip: dto.ip ?? request.ip,
        userAgent: request.userAgent,
        requestId: request.requestId,
      });
    }
    return decision;
  }

  private async decide(dto: AccessVerifyDto, inspection: KeyInspection): Promise<AccessDecision> {
    if (inspection.outcome !== 'VALID') {
      const subject = inspection.outcome === 'UNKNOWN' ? null : await this.subjectOf(inspection.userId, inspection.apiKeyId);
      return { allowed: false, code: KEY_CODES[inspection.outcome], subject, planCode: null, plan: null, quota: null, rateLimit: null };
    }
    const { principal } = inspection;
    // As on Gatehouse's own routes: a key whose owner has not activated the account does nothing
    // yet, and a verify key only asks about other keys.
    if (principal.status !== 'ACTIVE') return this.refuseKey(principal, 'ACCOUNT_NOT_ACTIVE');
    if (principal.scope === 'verify') return this.refuseKey(principal, 'INSUFFICIENT_SCOPE');
    // ADMINs are not metered: only who they are, their plan and their rate apply.
    if (principal.role === 'ADMIN') {
      const entitlement = await this.entitlements.of(principal.userId);
      const rate = await this.takeRate(principal.userId, null);
      return this.answer(principal, entitlement, rate.blocked ? 'RATE_LIMITED' : 'ALLOWED', null, rate.state);
    }
    const evaluation = await this.meter.evaluate(principal.userId, {
      apiVersion: dto.apiVersion,
      endpoint: dto.endpoint,
      ip: dto.ip ?? null,
      api: 'vendor',
    });
    if ('refusal' in evaluation) return this.answer(principal, evaluation.entitlement, REFUSAL_CODES[evaluation.refusal], null, null);
    const { entitlement } = evaluation.charge;
    const rate = await this.takeRate(principal.userId, entitlement);
    if (rate.blocked) return this.answer(principal, entitlement, 'RATE_LIMITED', null, rate.state);
    const result = await this.meter.consume(evaluation.charge, dto.cost);
    return this.answer(principal, entitlement, result.allowed ? 'ALLOWED' : 'QUOTA_EXCEEDED', result.quota, rate.state);
  }

  /** A usable key that may not make the call: who it is, and nothing about its plan. */
  private async refuseKey(principal: ApiKeyPrincipal, code: AccessCode): Promise<AccessDecision> {
    return {
      allowed: false,
      code,
      subject: await this.subjectOf(principal.userId, principal.apiKeyId),
      planCode: null,
      plan: null,
      quota: null,
      rateLimit: null,
    };
  }

  private answer(
    principal: ApiKeyPrincipal,
    entitlement: Entitlement,
    code: AccessCode,
    quota: QuotaState | null,
    rateLimit: RateLimitState | null,
  ): AccessDecision {
    return {
      allowed: code === 'ALLOWED',
      code,
      subject: { userId: principal.userId, accountId: entitlement.accountId, apiKeyId: principal.apiKeyId },
      planCode: entitlement.plan,
      plan: entitlement.plan,
      quota: quota && { limit: quota.limit, remaining: quota.remaining, resetsAt: isoOrNull(quota.resetsAt) },
      rateLimit,
    };
  }

  /** One request against the customer's plan rate (the configured default without one), counted apart from its own calls to Gatehouse. */
  private async takeRate(userId: string, entitlement: Entitlement | null): Promise<{ blocked: boolean; state: RateLimitState }> {
    const taken = await this.rateLimiter.take('access', `user:${userId}`, entitlement?.terms.rateLimit ?? this.config.rateLimit.policies.authenticated);
    const resetsAt = iso(new Date(Date.now() + taken.secondsLeft * 1000));
    return { blocked: taken.blocked, state: { limit: taken.limit, remaining: taken.remaining, resetsAt } };
  }

  private async subjectOf(userId: string, apiKeyId: string): Promise<AccessDecision['subject']> {
    const entitlement = await this.entitlements.of(userId);
    return { userId, accountId: entitlement.accountId, apiKeyId };
  }
}
