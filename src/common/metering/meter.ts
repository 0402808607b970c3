import type { FastifyReply, FastifyRequest } from 'fastify';

/** What a metered route (`@Authenticated({ metered })`) counts against: a limit named by API version and endpoint. */
export interface MeteredEndpoint {
  apiVersion: string;
  endpoint: string;
}

/** Whom a call is counted for: the user acting, or owning the API key (a Principal is one). */
export interface MeteredCaller {
  userId: string;
}

/** A plan's rate limit: `count` calls per `windowSeconds`. */
export interface PlanRateLimit {
  count: number;
  windowSeconds: number;
}

/** A call the plan admits, not counted yet: it is, once known to be a new and valid call. */
export interface PendingCharge {
  /** Counts the call and sets X-Quota-* on the reply; throws QUOTA_EXCEEDED, counting nothing, when it does not fit. */
  take(): Promise<void>;
  /** Sets X-Quota-* as the window stands now, counting nothing: the headers of an idempotent replay. */
  show(): Promise<void>;
}

/**
 * Counts calls against the caller's plan. Implemented by the metering module; the global guard
 * chain depends only on this contract, as it does on ApiKeyVerifier.
 */
export abstract class Meter {
  /**
   * Whether the plan admits a call: to a metered route (`endpoint`), refused with
   * SUBSCRIPTION_REQUIRED, PAST_DUE, GEO_RESTRICTED or ENDPOINT_NOT_IN_PLAN; or (null) any other
   * authenticated call, counted only against the free tier's daily cap while on NONE. Null when
   * there is nothing to count.
   */
  abstract admit(request: FastifyRequest, reply: FastifyReply, caller: MeteredCaller, endpoint: MeteredEndpoint | null): Promise<PendingCharge | null>;
  /** The caller's plan rate limit for the `authenticated` policy; null: the configured default. */
  abstract planRateLimit(userId: string): Promise<PlanRateLimit | null>;
}
