import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitTerms } from '../../db/schema/subscriptions';
import type { Principal } from '../auth/principal';

/** What a @Metered route counts against: a limit named by API version and endpoint. */
export interface MeteredEndpoint {
  apiVersion: string;
  endpoint: string;
}

/**
 * Counts calls against the caller's plan. Implemented by the metering module; the global guard
 * chain depends only on this contract, as it does on ApiKeyVerifier.
 */
export abstract class Meter {
  /**
   * A call to a @Metered route: counted (with X-Quota-* set on the reply), or refused with
   * SUBSCRIPTION_REQUIRED, PAST_DUE, GEO_RESTRICTED, ENDPOINT_NOT_IN_PLAN or QUOTA_EXCEEDED.
   */
  abstract meterCall(request: FastifyRequest, reply: FastifyReply, principal: Principal, endpoint: MeteredEndpoint): Promise<void>;
  /** Any other authenticated call: counted against the free tier's daily cap while on NONE. */
  abstract countAuthenticatedCall(request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<void>;
  /** The caller's plan rate limit for the `authenticated` policy; null: the configured default. */
  abstract planRateLimit(userId: string): Promise<RateLimitTerms | null>;
}
