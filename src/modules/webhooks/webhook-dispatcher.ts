import { z } from 'zod';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { safeErrorForLog } from '../../common/errors/safe-error';
import { newId } from '../../common/ids';
import { AttemptResult, WebhookClient } from '../../common/http/webhook-client';
import { AppConfig, InjectConfig } from '../../config/config';
import { MailService } from '../../common/mail/mail.service';
import { TransactionRunner } from '../../db/transaction';
import { PING_EVENT } from '../outbox/outbox.events';
import { OutboxRepository, OutboxRow } from '../outbox/outbox.repository';
import { fullName } from '../users/users.mapper';
import { UsersRepository } from '../users/users.repository';
import { ClaimedDelivery, DeliveryRow, WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { signWebhook } from './webhook-signature';
import { checkWebhookUrl } from './webhook-url';

/** After the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±10% jitter); then FAILED. */
export const RETRY_DELAYS_SECONDS = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000] as const;
const JITTER = 0.1;
/** The dispatcher wakes this often: first attempts go out within about two ticks of the commit. */
export const DISPATCH_INTERVAL_MS = 1_000;
const FAN_OUT_BATCH = 200;
const FAN_OUT_BATCHES_PER_ROUND = 5;
const ATTEMPT_BATCH = 50;
const ATTEMPT_BATCHES_PER_ROUND = 5;
/** A receiver's Retry-After is honoured up to the longest step of the schedule. */
const MAX_RETRY_AFTER_SECONDS = 36_000;
const MAX_BODY_BYTES = 4_096;
/** An endpoint whose deliveries have all failed this long is switched off. */
export const FAILING_DISABLE_DAYS = 5;

const PING_MESSAGE = 'A test event from Gatehouse, sent because you asked for one; nothing happened';
type PingPayload = z.infer<typeof PING_EVENT>;

type NextState = Pick<DeliveryRow, 'status' | 'nextAttemptAt' | 'lastError' | 'completedAt'>;

/** Whether another attempt may succeed: 429, 5xx, timeouts and connection errors. */
export function isRetryable(result: AttemptResult): boolean {
  if (result.failure?.kind === 'TIMEOUT' || result.failure?.kind === 'CONNECTION') return true;
  return result.status !== null && (result.status === 429 || result.status >= 500);
}

/**
 * Moves outbox events to customers' endpoints: each tick fans new outbox rows out into one
 * delivery per subscribed endpoint (in one transaction with marking them delivered), then claims
 * due deliveries under a lease and attempts them. Both steps lock with SKIP LOCKED, so any number
 * of instances share the work and none makes the same attempt as another.
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookDispatcher');
  private readonly client: WebhookClient;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<boolean> | undefined;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly users: UsersRepository,
    private readonly mail: MailService,
    private readonly transactions: TransactionRunner,
    private readonly endpointsService: WebhookEndpointsService,
    private readonly background: BackgroundTasks,
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

  onModuleInit() {
    if (!this.config.webhooks.dispatch) return;
    this.schedule(DISPATCH_INTERVAL_MS);
    // Attempts in flight at shutdown finish (or time out) before the pool closes.
    this.background.addFinalizer('webhook dispatch', async () => void (await this.running));
  }

  onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * The next round after `delayMs`: a round that found more work than its bounds starts the next
   * one at once (a backlog drains at full speed), an idle one waits DISPATCH_INTERVAL_MS.
   */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick().then((more) => this.schedule(more ? 0 : DISPATCH_INTERVAL_MS)), delayMs).unref();
  }

  /**
   * One round; a round still running is not overlapped. Whether it stopped at a bound with work
   * left. Public for tests that drive time themselves.
   */
  tick(): Promise<boolean> {
    this.running ??= this.round()
      .catch((error: unknown) => {
        this.logger.warn({ err: safeErrorForLog(error) }, 'Webhook dispatch round failed; the next one retries');
        return false;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Fan-out, then attempts, each bounded and each failing alone: a backlog in the outbox waits for
   * the next round rather than holding attempts back, and one attempt's failure ends only itself.
   */
  private async round(): Promise<boolean> {
    let more = false;
    try {
      let batch = 0;
      while (batch < FAN_OUT_BATCHES_PER_ROUND && (await this.fanOut()) === FAN_OUT_BATCH) batch++;
      more = batch === FAN_OUT_BATCHES_PER_ROUND;
    } catch (error) {
      this.logger.warn({ err: safeErrorForLog(error) }, 'Webhook fan-out failed; the next round retries');
    }
    for (let batch = 0; batch < ATTEMPT_BATCHES_PER_ROUND; batch++) {
      const claimed = await this.deliveries.claimDue(this.clock.now(), this.leaseFrom(this.clock.now()), ATTEMPT_BATCH);
      await Promise.allSettled(claimed.map((item) => this.attempt(item)));
      if (claimed.length < ATTEMPT_BATCH) return more;
    }
    return true;
  }

  /**
   * Attempts this one due delivery now, under a lease as the rounds take it; false when it is not
   * pending or an attempt in flight holds it.
   */
  async attemptNow(deliveryId: string): Promise<boolean> {
    const now = this.clock.now();
    const claimed = await this.deliveries.claimOne(deliveryId, now, this.leaseFrom(now));
    if (!claimed) return false;
    await this.attempt(claimed);
    return true;
  }

  /** Sends a `ping` event to this endpoint now, as a delivery of its own (retried like any other); its id. */
  async ping(endpoint: { id: string; ownerId: string }): Promise<string> {
    const now = this.clock.now();
    const payload: PingPayload = { endpointId: endpoint.id, message: PING_MESSAGE };
    const event = publishedEvent({ id: newId('evt'), type: 'ping', payload, createdAt: now });
    const claimed = await this.deliveries.insertClaimed(
      {
        endpointId: endpoint.id,
        ownerId: endpoint.ownerId,
        eventId: event.id,
        eventType: event.type,
        body: JSON.stringify(event),
        nextAttemptAt: now,
        createdAt: now,
      },
      this.leaseFrom(now),
    );
    await this.attempt(claimed);
    return claimed.delivery.id;
  }

  /** Fans out up to one batch of outbox rows; how many it took. */
  private fanOut(): Promise<number> {
    return this.transactions.run(async (tx) => {
      const rows = await this.outbox.claimUndelivered(tx, FAN_OUT_BATCH);
      const now = this.clock.now();
      // Rows of one type about one user go to the same endpoints: asked once per batch.
      const subscribed = new Map<string, Promise<{ id: string; ownerId: string }[]>>();
      for (const row of rows) {
        const userId = ownerOf(row);
        const key = `${row.type}|${userId ?? ''}`;
        if (!subscribed.has(key)) subscribed.set(key, this.deliveries.endpointsFor(tx, row.type, userId));
        const endpoints = await subscribed.get(key)!;
        const event = publishedEvent(row);
        await this.deliveries.insertMany(
          tx,
          endpoints.map((endpoint) => ({
            endpointId: endpoint.id,
            ownerId: endpoint.ownerId,
            eventId: event.id,
            eventType: row.type,
            body: JSON.stringify(event),
            nextAttemptAt: now,
          })),
        );
      }
      await this.outbox.markDelivered(
        tx,
        rows.map((row) => row.id),
        now,
      );
      return rows.length;
    });
  }

  /** Makes one attempt of a claimed delivery and records it with where the delivery goes next. */
  async attempt({ delivery, endpoint }: ClaimedDelivery): Promise<AttemptResult | undefined> {
    const lease = delivery.leaseUntil!;
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
    const next = this.nextState(delivery, result, this.clock.now());
    const recorded = await this.deliveries.recordAttempt(
      {
        id: newId('wha'),
        deliveryId: delivery.id,
        attemptedAt: at,
        statusCode: result.status,
        durationMs: Math.round(result.durationMs),
        responseBody: result.body || null,
        failure: result.failure ? `${result.failure.kind}: ${result.failure.message}`.slice(0, 500) : null,
      },
      next,
      lease,
    );
    if (!recorded) this.logger.warn(`Delivery ${delivery.id}: its lease ran out during the attempt; another attempt records instead`);
    else if (endpoint.enabled) await this.afterAttempt(endpoint, result, this.clock.now());
    return result;
  }

  /** 410 Gone switches the endpoint off at once; failing every delivery for FAILING_DISABLE_DAYS does too, and its owner is told. */
  private async afterAttempt(endpoint: ClaimedDelivery['endpoint'], result: AttemptResult, now: Date): Promise<void> {
    if (result.status === 410) {
      await this.endpoints.disable(endpoint.id, 'GONE', now);
      return;
    }
    const failingSince = await this.endpoints.recordHealth(endpoint.id, result.ok, now);
    if (!failingSince || now.getTime() - failingSince.getTime() < FAILING_DISABLE_DAYS * 86_400_000) return;
    const disabled = await this.endpoints.disable(endpoint.id, 'FAILING', now);
    if (disabled) this.background.run('webhook endpoint disabled mail', () => this.mailOwner(disabled.ownerId, disabled.url));
  }

  private async mailOwner(userId: string, url: string): Promise<void> {
    const user = await this.users.findById(userId);
    if (user)
      await this.mail.sendTemplate(user.email, 'webhookEndpointDisabled', user.language, { name: fullName(user), url, days: String(FAILING_DISABLE_DAYS) });
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
    const error = (result.failure ? `${result.failure.kind}: ${result.failure.message}` : `HTTP ${result.status}`).slice(0, 500);
    const delay = RETRY_DELAYS_SECONDS[delivery.attemptCount - 1];
    if (!isRetryable(result) || delay === undefined) return { status: 'FAILED', nextAttemptAt: null, lastError: error, completedAt: now };
    const jittered = delay * (1 + (Math.random() * 2 - 1) * JITTER);
    const asked = Number.isFinite(result.retryAfterSeconds) ? Math.min(result.retryAfterSeconds!, MAX_RETRY_AFTER_SECONDS) : 0;
    const seconds = Math.max(jittered, asked);
    return { status: 'PENDING', nextAttemptAt: new Date(now.getTime() + seconds * 1000), lastError: error, completedAt: null };
  }

  /** Past the attempt's own time limit, so a live attempt always records before another may start. */
  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.config.webhooks.attemptTimeoutMs * 2);
  }
}

/** The user an event is about: every catalog payload names one. */
function ownerOf(row: OutboxRow): string | null {
  const userId = (row.payload as { userId?: unknown }).userId;
  return typeof userId === 'string' ? userId : null;
}

/** The published shape: `{id, object: "event", type, created, data: {object}}`, its id stable for its outbox row. */
export function publishedEvent(row: Pick<OutboxRow, 'id' | 'type' | 'payload' | 'createdAt'>) {
  return {
    id: `evt_${row.id.slice(row.id.indexOf('_') + 1)}`,
    object: 'event' as const,
    type: row.type,
    created: Math.floor(row.createdAt.getTime() / 1000),
    data: { object: row.payload },
  };
}

const refused = (message: string): AttemptResult => ({
  ok: false,
  status: null,
  durationMs: 0,
  body: '',
  retryAfterSeconds: null,
  failure: { kind: 'ADDRESS_REFUSED', message },
});
