import { Injectable, Logger } from '@nestjs/common';
import { TransactionRunner } from '../../db/transaction';
import { Clock } from '../../common/clock';
import { safeErrorForLog } from '../../common/errors/safe-error';
import { newId } from '../../lib/ids';
import { AttemptResult, WebhookClient } from '../../common/http/webhook-client';
import { MailService } from '../../common/mail/mail.service';
import { AppConfig, InjectConfig } from '../../config/config';
import { UsersService } from '../users/users.service';
import { ClaimedDelivery, DeliveryRow, HandOver, NextState, WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { signWebhook } from './webhook-signature';
import { checkWebhookUrl } from './webhook-url';
import { storableText } from '../../common/validation/clean-strings';

/** After the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±10% jitter); then FAILED. */
export const RETRY_DELAYS_SECONDS = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000] as const;
const JITTER = 0.1;
/** A receiver's Retry-After is honoured up to the longest step of the schedule. */
const MAX_RETRY_AFTER_SECONDS = 36_000;
const MAX_BODY_BYTES = 4_096;
/** An endpoint whose deliveries have all failed this long is switched off. */
export const FAILING_DISABLE_DAYS = 5;

/** An attempt made and not yet recorded: its delivery and endpoint as claimed, what came back, and when it was made. */
export interface SentAttempt {
  claimed: ClaimedDelivery;
  result: AttemptResult;
  at: Date;
}

/** Whether another attempt may succeed: 429, 5xx, timeouts and connection errors. */
export function isRetryable(result: AttemptResult): boolean {
  if (result.failure?.kind === 'TIMEOUT' || result.failure?.kind === 'CONNECTION') return true;
  return result.status !== null && (result.status === 429 || result.status >= 500);
}

/**
 * Makes one attempt of a claimed delivery and records it with where the delivery goes next (the
 * retry schedule), then what it says about the endpoint's health. Whoever claimed the delivery
 * (the dispatcher's rounds, a retry or a test asked for) calls it.
 */
@Injectable()
export class WebhookAttempts {
  private readonly logger = new Logger('WebhookDispatcher');
  private readonly client: WebhookClient;

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly users: UsersService,
    private readonly mail: MailService,
    private readonly endpointsService: WebhookEndpointsService,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    const { allowPrivateNetworks, attemptTimeoutMs, dnsServers } = config.webhooks;
    this.client = new WebhookClient({
      allowPrivateNetworks,
      timeoutMs: attemptTimeoutMs,
      maxBodyBytes: MAX_BODY_BYTES,
      dnsServers: dnsServers.length > 0 ? dnsServers : undefined,
    });
  }

  /** Past the attempt's own time limit, so a live attempt always records before another may start. */
  leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.config.webhooks.attemptTimeoutMs * 2);
  }

  /** Makes the attempt and records it; its result, or undefined when the delivery was cancelled instead of sent. */
  async attempt(claimed: ClaimedDelivery): Promise<AttemptResult | undefined> {
    const sent = await this.make(claimed);
    if (sent) await this.record([sent]);
    return sent?.result;
  }

  /**
   * Makes the attempt without recording it (see record); undefined when the delivery was
   * cancelled instead of sent.
   */
  async make(claimed: ClaimedDelivery): Promise<SentAttempt | undefined> {
    const { delivery, endpoint } = claimed;
    // An `all` endpoint whose owner was demoted since the fan-out (or while this waited): what it
    // holds about others ends unsent, this delivery with them.
    if (delivery.subjectUserId !== endpoint.ownerId && endpoint.ownerRole !== 'ADMIN') {
      await this.deliveries.cancelAboutOthers(endpoint.ownerId, this.clock.now());
      return undefined;
    }
    const at = this.clock.now();
    const result = await this.send(delivery, endpoint, at).catch((error: unknown): AttemptResult => {
      // Ours, not the receiver's (a secret that no longer opens, say): recorded and retried like a
      // connection error, so the delivery leaves its lease and ends FAILED if it never recovers.
      this.logger.error({ err: safeErrorForLog(error) }, `Delivery ${delivery.id}: the attempt could not be made`);
      return {
        ok: false,
        status: null,
        durationMs: 0,
        body: '',
        retryAfterSeconds: null,
        failure: { kind: 'CONNECTION', message: 'Internal error before sending' },
      };
    });
    // The owner sees the failure's message; what was refused, and why, is for operators only.
    if (result.failure?.detail) this.logger.warn(`Delivery ${delivery.id} to endpoint ${endpoint.id}: ${result.failure.kind}: ${result.failure.detail}`);
    return { claimed, result, at };
  }

  /**
   * Records attempts made (one statement for all of them, each with where its delivery goes
   * next), then what they say about their endpoints' health. With `handOver`, the statement also
   * claims successors for the recorded attempts' slots (WebhookDeliveriesRepository.recordAttempts);
   * those it claimed, for the caller to attempt.
   */
  async record(sent: SentAttempt[], handOver?: Omit<HandOver, 'now' | 'leaseUntil'>): Promise<ClaimedDelivery[]> {
    const now = this.clock.now();
    // An endpoint's health follows its last attempt (as if each had recorded in turn); one that
    // answered 2xx last is healthy, written beside the attempts rather than after them, and only
    // when its claim saw it failing (a healthy endpoint's success changes nothing: one query
    // fewer per recording). One marked failing by another instance after this claim is healed by
    // the next success, which its single slot then claims seeing it failing.
    const last = new Map<string, SentAttempt>();
    for (const item of sent) if (item.claimed.endpoint.enabled) last.set(item.claimed.endpoint.id, item);
    const healthy = [...last].filter(([, item]) => item.result.ok && item.claimed.endpoint.failingSince !== null).map(([id]) => id);
    const [{ recorded, handedOver }] = await Promise.all([
      this.deliveries.recordAttempts(
        sent.map(({ claimed: { delivery }, result, at }) => ({
          attempt: {
            id: newId('wha'),
            deliveryId: delivery.id,
            attemptedAt: at,
            statusCode: result.status,
            durationMs: Math.round(result.durationMs),
            // The receiver's bytes, as Postgres can store them: one NUL would fail the whole round's recording.
            responseBody: result.body ? storableText(result.body) : null,
            failure: result.failure ? storableText(`${result.failure.kind}: ${result.failure.message}`.slice(0, 500)) : null,
          },
          next: this.nextState(delivery, result, now),
          lease: delivery.leaseUntil!,
        })),
        handOver && { ...handOver, now, leaseUntil: this.leaseFrom(now) },
      ),
      healthy.length > 0 ? this.endpoints.recordHealthy(healthy) : undefined,
    ]);
    // A 410 Gone recorded switches its endpoint off at once; a failure recorded last counts
    // towards switching it off.
    const gone = new Set<string>();
    for (const { claimed, result } of sent) {
      if (!recorded.has(claimed.delivery.id))
        this.logger.warn(`Delivery ${claimed.delivery.id}: its lease ran out during the attempt; another attempt records instead`);
      else if (claimed.endpoint.enabled && result.status === 410) gone.add(claimed.endpoint.id);
    }
    const failing = [...last.values()].filter((item) => !item.result.ok && !gone.has(item.claimed.endpoint.id) && recorded.has(item.claimed.delivery.id));
    await Promise.all([
      ...[...gone].map((id) => this.endpoints.disable(id, 'GONE', now)),
      ...failing.map((item) => this.afterFailure(item.claimed.endpoint, now)),
    ]);
    return handedOver;
  }

  /** Failing every delivery for FAILING_DISABLE_DAYS switches the endpoint off, and its owner is told. */
  private async afterFailure(endpoint: ClaimedDelivery['endpoint'], now: Date): Promise<void> {
    const failingSince = await this.endpoints.recordFailure(endpoint.id, now);
    if (!failingSince || now.getTime() - failingSince.getTime() < FAILING_DISABLE_DAYS * 86_400_000) return;
    // Switched off and its owner's mail queued together: one mail, exactly when it is off.
    await this.transactions.run(async (tx) => {
      const disabled = await this.endpoints.disableIn(tx, endpoint.id, 'FAILING', now);
      const user = disabled && (await this.users.findByIdIn(tx, disabled.ownerId));
      if (!disabled || !user) return;
      await this.mail.queue(tx, user, 'webhookEndpointDisabled', { name: this.users.nameOf(user), url: disabled.url, days: String(FAILING_DISABLE_DAYS) });
    });
  }

  private async send(delivery: DeliveryRow, endpoint: ClaimedDelivery['endpoint'], at: Date): Promise<AttemptResult> {
    if (!endpoint.enabled) return refused('The endpoint is disabled');
    const check = checkWebhookUrl(endpoint.url, this.config.webhooks);
    if (!check.ok) return refused(check.reason);
    return this.client.send(check.url.toString(), this.sign(delivery, endpoint, at), delivery.body);
  }

  private sign(delivery: DeliveryRow, endpoint: ClaimedDelivery['endpoint'], at: Date): Record<string, string> {
    return signWebhook({
      id: delivery.eventId,
      timestamp: Math.floor(at.getTime() / 1000),
      body: delivery.body,
      secrets: this.endpointsService.signingSecrets(endpoint),
    });
  }

  private nextState(delivery: DeliveryRow, result: AttemptResult, now: Date): NextState {
    if (result.ok) return { status: 'SUCCEEDED', nextAttemptAt: null, lastError: null, completedAt: now };
    const error = storableText((result.failure ? `${result.failure.kind}: ${result.failure.message}` : `HTTP ${result.status}`).slice(0, 500));
    const delay = RETRY_DELAYS_SECONDS[delivery.attemptCount - 1];
    if (!isRetryable(result) || delay === undefined) return { status: 'FAILED', nextAttemptAt: null, lastError: error, completedAt: now };
    const jittered = delay * (1 + (Math.random() * 2 - 1) * JITTER);
    const asked = Number.isFinite(result.retryAfterSeconds) ? Math.min(result.retryAfterSeconds!, MAX_RETRY_AFTER_SECONDS) : 0;
    const seconds = Math.max(jittered, asked);
    return { status: 'PENDING', nextAttemptAt: new Date(now.getTime() + seconds * 1000), lastError: error, completedAt: null };
  }
}

const refused = (message: string): AttemptResult => ({
  ok: false,
  status: null,
  durationMs: 0,
  body: '',
  retryAfterSeconds: null,
  failure: { kind: 'ADDRESS_REFUSED', message },
});
