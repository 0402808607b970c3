import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { assertAllowedLink } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { CheckoutSessionRequest, OpenedCheckoutSession, PAYMENT_PROVIDER, PaymentDeadline, PaymentProvider } from './payment-provider';

/**
 * What differs between buying products and buying a plan. The flow reserves what the session
 * will pay for (a PENDING order; the account's one checkout claim), asks the provider for the
 * session, and records it; a failure on the way releases the reservation.
 */
export interface CheckoutStrategy<Reservation, Result> {
  /** The reservation, or an answer without a new session (another request's session, asked for the same way). */
  reserve(deadline: PaymentDeadline): Promise<{ reservation: Reservation } | { answer: Result }>;
  /** The session to open, and the key that makes a retry of it open no second one. */
  session(deadline: PaymentDeadline, reservation: Reservation): Promise<{ request: CheckoutSessionRequest; idempotencyKey: string }>;
  record(deadline: PaymentDeadline, reservation: Reservation, session: OpenedCheckoutSession): Promise<Result>;
  release(reservation: Reservation): Promise<void>;
}

/** The one checkout flow both checkouts run, with the checks they share. */
@Injectable()
export class CheckoutFlow {
  constructor(
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The buyer comes back to our own origins only. */
  assertLinks(links: { successUrl: string; cancelUrl: string }): void {
    assertAllowedLink('successUrl', links.successUrl, this.config.allowedLinkOrigins);
    assertAllowedLink('cancelUrl', links.cancelUrl, this.config.allowedLinkOrigins);
  }

  /** Without a provider configured nothing can be paid: 503 for an hour. */
  assertProvider(): void {
    if (!this.provider.configured) throw new DomainError('SERVICE_UNAVAILABLE', { params: { retryAfter: 3600 } });
  }

  /** Reserve, open the session, record it: every provider call of the request under one deadline. */
  async run<Reservation, Result>(strategy: CheckoutStrategy<Reservation, Result>): Promise<Result> {
    const deadline = this.provider.startDeadline();
    const reserved = await strategy.reserve(deadline);
    if ('answer' in reserved) return reserved.answer;
    try {
      const { request, idempotencyKey } = await strategy.session(deadline, reserved.reservation);
      const session = await this.provider.createCheckoutSession(deadline, request, idempotencyKey);
      return await strategy.record(deadline, reserved.reservation, session);
    } catch (error) {
      await strategy.release(reserved.reservation);
      throw error;
    }
  }
}
