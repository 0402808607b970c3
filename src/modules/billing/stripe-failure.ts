import { DomainError } from '../../common/errors/domain-error';

/** How soon a caller may try again after Stripe could not be reached. */
export const STRIPE_RETRY_AFTER_SECONDS = 60;

/** What stripe-node's errors carry that we read: `type` is the class's name, as Stripe documents it. */
export interface StripeErrorFacts {
  type: string;
  statusCode?: number;
  headers?: Record<string, string>;
}

/**
 * A stripe-node error, told by its `type` rather than by `instanceof`: the SDK is loaded only once a
 * call is made (see StripeApi), and its CommonJS and ES module builds have classes of their own.
 */
export function stripeErrorOf(error: unknown): StripeErrorFacts | undefined {
  const type = error instanceof Error ? (error as { type?: unknown }).type : undefined;
  return typeof type === 'string' && type.startsWith('Stripe') ? (error as StripeErrorFacts) : undefined;
}

/**
 * What a failed Stripe call means to our caller. Stripe unreachable, timing out, rate limiting
 * us or failing on its side is an outage: 503 with Retry-After, try again. Stripe refusing the
 * request itself (a bad price id, our key revoked) will not get better by retrying: 502.
 */
export function stripeFailure(error: unknown): DomainError {
  const stripe = stripeErrorOf(error);
  const outage =
    stripe !== undefined &&
    (stripe.type === 'StripeConnectionError' ||
      stripe.type === 'StripeRateLimitError' ||
      stripe.type === 'StripeAPIError' ||
      (stripe.statusCode ?? 500) >= 500);
  return outage
    ? new DomainError('SERVICE_UNAVAILABLE', { cause: error, params: { retryAfter: STRIPE_RETRY_AFTER_SECONDS } })
    : new DomainError('UPSTREAM_FAILED', { cause: error });
}
