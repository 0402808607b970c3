import Stripe from 'stripe';
import { DomainError } from '../errors/domain-error';

/** How soon a caller may try again after Stripe could not be reached. */
export const STRIPE_RETRY_AFTER_SECONDS = 60;

/**
 * What a failed Stripe call means to our caller. Stripe unreachable, timing out, rate limiting
 * us or failing on its side is an outage: 503 with Retry-After, try again. Stripe refusing the
 * request itself (a bad price id, our key revoked) will not get better by retrying: 502.
 */
export function stripeFailure(error: unknown): DomainError {
  const outage =
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    error instanceof Stripe.errors.StripeAPIError ||
    (error instanceof Stripe.errors.StripeError && (error.statusCode ?? 500) >= 500);
  return outage
    ? new DomainError('SERVICE_UNAVAILABLE', { cause: error, params: { retryAfter: STRIPE_RETRY_AFTER_SECONDS } })
    : new DomainError('UPSTREAM_FAILED', { cause: error });
}
