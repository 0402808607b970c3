import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type Stripe from 'stripe';
import { DomainError } from '../../common/errors/domain-error';
import type { PaymentDeadline } from './payment-provider';
import { STRIPE_RETRY_AFTER_SECONDS, stripeErrorOf, stripeFailure } from './stripe-failure';

/** What one attempt is given: what is left of the deadline, no retries of stripe-node's own, and the key. */
export type StripeCallOptions = Required<Pick<Stripe.RequestOptions, 'timeout' | 'maxNetworkRetries'>> & Pick<Stripe.RequestOptions, 'idempotencyKey'>;
type Send<T> = (options: StripeCallOptions) => Promise<T>;

/** Stripe's client waits 0.5 s before its first retry; a deadline of seconds cannot afford that twice. */
const FIRST_RETRY_DELAY_MS = 200;

class DeadlinePassed extends Error {}

/**
 * One request's time with Stripe: every call it makes, each retry and any wait for another
 * request's call end by one deadline, so a slow or hanging Stripe costs a request a few seconds,
 * never a connection (no caller holds a transaction across these calls). Retries are ours, not
 * stripe-node's, so that they stop at the deadline; they are made only where Stripe says a retry
 * is safe, and a write keeps one idempotency key across its attempts, so Stripe acts on it once.
 */
export class StripeDeadline implements PaymentDeadline {
  private readonly endsAt: number;

  constructor(
    readonly budgetMs: number,
    private readonly maxRetries: number,
  ) {
    // Monotonic: tests move the injected Clock, and a wall clock can jump.
    this.endsAt = performance.now() + budgetMs;
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - performance.now());
  }

  /** A POST. Every attempt carries the same idempotency key, as Stripe asks of a retried write. */
  write<T>(send: Send<T>, idempotencyKey = `gatehouse-${randomUUID()}`): Promise<T> {
    return this.call(send, { idempotencyKey });
  }

  /** A GET, which Stripe lets be repeated as is. */
  read<T>(send: Send<T>): Promise<T> {
    return this.call(send, {});
  }

  /** 503 with Retry-After: the deadline passed (`cause`, what the last attempt met). */
  passed(cause?: unknown): DomainError {
    return new DomainError('SERVICE_UNAVAILABLE', {
      cause: cause ?? new Error(`Stripe did not answer within ${this.budgetMs} ms`),
      params: { retryAfter: STRIPE_RETRY_AFTER_SECONDS },
    });
  }

  private async call<T>(send: Send<T>, fixed: Pick<StripeCallOptions, 'idempotencyKey'>): Promise<T> {
    let lastError: unknown;
    for (let retry = 0; ; retry++) {
      const left = this.remainingMs();
      if (left < 1) throw this.passed(lastError);
      try {
        return await this.within(left, send({ ...fixed, timeout: Math.ceil(left), maxNetworkRetries: 0 }));
      } catch (error) {
        if (error instanceof DeadlinePassed) throw this.passed(lastError);
        if (retry >= this.maxRetries || !retryable(error)) throw stripeFailure(error);
        lastError = error;
      }
      const backoff = FIRST_RETRY_DELAY_MS * 2 ** retry * (0.5 + Math.random() / 2);
      await sleep(Math.min(backoff, this.remainingMs()));
    }
  }

  /**
   * stripe-node's timeout restarts whenever a byte arrives, so a Stripe that trickles its answer
   * would outlast it: the race holds the deadline whatever the socket does.
   */
  private within<T>(ms: number, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlinePassed()), ms);
    });
    // Settled after the deadline, the call's outcome is nobody's to handle.
    call.catch(() => undefined);
    return Promise.race([call, late]).finally(() => clearTimeout(timer));
  }
}

/**
 * Stripe's own rule for a safe retry (as stripe-node applies it): its `Stripe-Should-Retry`
 * answer when it gives one, else a connection failure, a conflict (409) or its own error (5xx).
 */
function retryable(error: unknown): boolean {
  const stripe = stripeErrorOf(error);
  if (!stripe) return false;
  const advice = stripe.headers?.['stripe-should-retry'];
  if (advice === 'true' || advice === 'false') return advice === 'true';
  return stripe.type === 'StripeConnectionError' || stripe.statusCode === 409 || (stripe.statusCode ?? 0) >= 500;
}
