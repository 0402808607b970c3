import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { GeoLocator } from '../../common/geo/geo-locator';
import { Meter, MeteredCaller, MeteredEndpoint, PendingCharge } from '../../common/metering/meter';
import type { PlanLimit, RateLimitTerms } from '../../db/schema/subscriptions';
import type { Charge } from './charge';
import { Entitlement, EntitlementsService } from './entitlements.service';
import { QuotaAlertsService } from './quota-alerts.service';
import { CounterKey, QuotaCountersRepository } from './quota-counters.repository';
import { limitFor, quotaWindow } from './quota-windows';

/** The version whose "*" limit caps a free-tier user's authenticated calls (the NONE plan's). */
export const FREE_TIER_API_VERSION = 'v1';

export type MeterRefusal = 'SUBSCRIPTION_REQUIRED' | 'PAST_DUE' | 'GEO_RESTRICTED' | 'ENDPOINT_NOT_IN_PLAN' | 'QUOTA_EXCEEDED';

export interface QuotaState {
  apiVersion: string;
  endpoint: string;
  limit: number;
  remaining: number;
  /** Null: the allowance never resets. */
  resetsAt: Date | null;
}

export type Evaluation =
  { refusal: Exclude<MeterRefusal, 'QUOTA_EXCEEDED'>; entitlement: Entitlement; call: MeteredEndpoint; country?: string } | { charge: Charge };

export type Consumption = { allowed: true; quota: QuotaState } | { allowed: false; quota: QuotaState };

export interface MeteredCall extends MeteredEndpoint {
  /** The end client's address; null when unknown, which only a plan open to ALL admits. */
  ip: string | null;
  /**
   * Gatehouse's own API, where NONE admits no metered endpoint, or the vendor's (access checks),
   * where NONE admits the endpoints it names: its "*" is the free tier of Gatehouse's own API only.
   */
  api: 'gatehouse' | 'vendor';
}

/** What a call consumed, to give back if it ends in a 5xx. */
const consumed = new WeakMap<FastifyRequest, { key: CounterKey; cost: number }>();

/**
 * The rules of metering, for Gatehouse's own routes (through the route guard) and for the
 * vendor's API (through /v1/access/verify): plan, place, endpoint, then one atomic count.
 */
@Injectable()
export class MeterService extends Meter implements OnModuleInit {
  constructor(
    private readonly entitlements: EntitlementsService,
    private readonly counters: QuotaCountersRepository,
    private readonly alerts: QuotaAlertsService,
    private readonly geo: GeoLocator,
    private readonly background: BackgroundTasks,
    private readonly adapterHost: HttpAdapterHost,
    private readonly clock: Clock,
  ) {
    super();
  }

  onModuleInit() {
    // A call that failed on our side gives its unit back (after the answer is sent: no latency).
    this.adapterHost.httpAdapter.getInstance<FastifyInstance>().addHook('onResponse', (request, reply, done) => {
      const charge = consumed.get(request);
      if (charge && reply.statusCode >= 500) this.background.run('quota refund', () => this.counters.refund(charge.key, charge.cost));
      done();
    });
  }

  /** Whether the plan admits the call, and which counter it goes to; nothing is counted yet. */
  async evaluate(userId: string, call: MeteredCall): Promise<Evaluation> {
    const entitlement = await this.entitlements.of(userId);
    const { limits } = entitlement.terms;
    const onNone = entitlement.plan === 'NONE';
    const limit = onNone ? (call.api === 'vendor' ? namedLimit(limits, call) : undefined) : limitFor(limits, call.apiVersion, call.endpoint);
    if (onNone && !limit) return { refusal: entitlement.pastDue ? 'PAST_DUE' : 'SUBSCRIPTION_REQUIRED', entitlement, call };
    const outside = await this.geo.refusal(call.ip, entitlement.terms.geoScope);
    if (outside) return { refusal: 'GEO_RESTRICTED', entitlement, call, country: outside.location?.country };
    if (!limit) return { refusal: 'ENDPOINT_NOT_IN_PLAN', entitlement, call };
    return { charge: this.chargeFor(entitlement, limit) };
  }

  /** Counts `cost` calls if they fit; a refused call counts nothing. */
  async consume(charge: Charge, cost: number): Promise<Consumption> {
    const max = charge.limit.maxCalls;
    const used = cost <= max ? await this.counters.consume(charge.key, charge.window.end, cost, max) : undefined;
    if (used !== undefined) {
      this.alerts.afterCall(charge, used);
      return { allowed: true, quota: this.quotaState(charge, used) };
    }
    const held = await this.counters.used(charge.key);
    this.alerts.afterCall(charge, held);
    return { allowed: false, quota: this.quotaState(charge, held) };
  }

  async admit(request: FastifyRequest, reply: FastifyReply, caller: MeteredCaller, endpoint: MeteredEndpoint | null): Promise<PendingCharge | null> {
    const charge = endpoint ? await this.admitMetered(request, caller, endpoint) : await this.admitOnFreeTier(caller);
    return charge && { take: () => this.count(request, reply, charge), show: () => this.show(reply, charge) };
  }

  private async admitMetered(request: FastifyRequest, caller: MeteredCaller, endpoint: MeteredEndpoint): Promise<Charge> {
    const evaluation = await this.evaluate(caller.userId, { ...endpoint, ip: request.ip, api: 'gatehouse' });
    if ('refusal' in evaluation) throw refusalError(evaluation);
    return evaluation.charge;
  }

  /** The free tier's daily cap, on NONE only. */
  private async admitOnFreeTier(caller: MeteredCaller): Promise<Charge | null> {
    const entitlement = await this.entitlements.of(caller.userId);
    if (entitlement.plan !== 'NONE') return null;
    const limit = limitFor(entitlement.terms.limits, FREE_TIER_API_VERSION, '*');
    return limit ? this.chargeFor(entitlement, limit) : null;
  }

  async planRateLimit(userId: string): Promise<RateLimitTerms | null> {
    return (await this.entitlements.of(userId)).terms.rateLimit;
  }

  private chargeFor(entitlement: Entitlement, limit: PlanLimit): Charge {
    const window = quotaWindow(entitlement.terms.limitResetPeriod, entitlement.periodStart, entitlement.periodEnd, this.clock.now());
    const key = {
      userId: entitlement.userId,
      periodStart: entitlement.periodStart,
      apiVersion: limit.apiVersion,
      endpoint: limit.endpoint,
      windowStart: window.start,
    };
    return { entitlement, limit, window, key };
  }

  private async count(request: FastifyRequest, reply: FastifyReply, charge: Charge): Promise<void> {
    const result = await this.consume(charge, 1);
    void reply.headers(quotaHeaders(result.quota));
    if (!result.allowed) throw this.quotaExceeded(result.quota);
    consumed.set(request, { key: charge.key, cost: 1 });
  }

  private async show(reply: FastifyReply, charge: Charge): Promise<void> {
    void reply.headers(quotaHeaders(this.quotaState(charge, await this.counters.used(charge.key))));
  }

  private quotaExceeded(quota: QuotaState): DomainError {
    const { apiVersion, endpoint, limit, resetsAt } = quota;
    if (!resetsAt) return new DomainError('QUOTA_EXCEEDED', { params: { apiVersion, endpoint, limit } });
    const retryAfter = Math.max(1, Math.ceil((resetsAt.getTime() - this.clock.now().getTime()) / 1000));
    return new DomainError('QUOTA_EXCEEDED', { params: { apiVersion, endpoint, limit, retryAfter, resetsAt: resetsAt.toISOString() } });
  }

  private quotaState(charge: Charge, used: number): QuotaState {
    const { apiVersion, endpoint, maxCalls } = charge.limit;
    return { apiVersion, endpoint, limit: maxCalls, remaining: Math.max(0, maxCalls - used), resetsAt: charge.window.end };
  }
}

/** The limit a plan names for exactly this endpoint, never a "*". */
const namedLimit = (limits: readonly PlanLimit[], call: MeteredEndpoint) =>
  limits.find((limit) => limit.apiVersion === call.apiVersion && limit.endpoint === call.endpoint);

function quotaHeaders(quota: QuotaState): Record<string, string> {
  return {
    'x-quota-limit': String(quota.limit),
    'x-quota-remaining': String(quota.remaining),
    ...(quota.resetsAt ? { 'x-quota-reset': String(Math.ceil(quota.resetsAt.getTime() / 1000)) } : {}),
  };
}

function refusalError(evaluation: Extract<Evaluation, { refusal: string }>): DomainError {
  switch (evaluation.refusal) {
    case 'SUBSCRIPTION_REQUIRED':
    case 'PAST_DUE':
      return new DomainError(evaluation.refusal);
    case 'GEO_RESTRICTED':
      return new DomainError('GEO_RESTRICTED', { params: evaluation.country ? { country: evaluation.country } : {} });
    case 'ENDPOINT_NOT_IN_PLAN':
      return new DomainError('ENDPOINT_NOT_IN_PLAN', { params: { apiVersion: evaluation.call.apiVersion, endpoint: evaluation.call.endpoint } });
  }
}
