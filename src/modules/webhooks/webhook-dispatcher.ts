import { z } from 'zod';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { safeErrorForLog } from '../../common/errors/safe-error';
import { newId } from '../../lib/ids';
import { AppConfig, InjectConfig } from '../../config/config';
import type { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { PING_EVENT } from '../outbox/outbox.events';
import { OutboxRow, OutboxService } from '../outbox/outbox.service';
import { SentAttempt, WebhookAttempts } from './webhook-attempts';
import { ClaimedDelivery, NewDelivery, WebhookDeliveriesRepository } from './webhook-deliveries.repository';

/** The dispatcher wakes this often: first attempts go out within about two ticks of the commit. */
export const DISPATCH_INTERVAL_MS = 1_000;
const FAN_OUT_BATCH = 200;
const FAN_OUT_BATCHES_PER_ROUND = 5;
/** Attempts one `tick()` makes at most before it reports that more are due. */
const ATTEMPTS_PER_TICK = 250;

const PING_MESSAGE = 'A test event from Gatehouse, sent because you asked for one; nothing happened';
type PingPayload = z.infer<typeof PING_EVENT>;

/**
 * Moves outbox events to customers' endpoints. Each second (at once while a backlog fills its
 * bounds) it fans new outbox rows out into one delivery per subscribed endpoint, in one
 * transaction with marking them delivered. Attempts run apart from that: up to
 * WEBHOOK_DISPATCH_CONCURRENCY at once, and whenever one ends, its slot is claimed again at once,
 * fairly across endpoints (WebhookDeliveriesRepository.claimDue: at most
 * WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT to one endpoint, the least busy endpoints first). An endpoint
 * that never answers thus holds a few slots for its timeout, never a round, nor the fan-out of
 * everyone else's events. Claims lock with SKIP LOCKED and leases, so any number of instances
 * share the work and none makes the same attempt as another.
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookDispatcher');
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<boolean> | undefined;
  private fanningOut: Promise<boolean> | undefined;
  /** Attempts started by this instance's claims, each removing itself when it ends. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Claims run one at a time, so two cannot both count the same free slots. */
  private claims: Promise<unknown> = Promise.resolve();
  private refillQueued = false;
  /** Attempts made and waiting to be recorded together, and the recording under way. */
  private readonly unrecorded: { sent: SentAttempt; resolve: (handedOver: boolean) => void; reject: (error: unknown) => void }[] = [];
  private recording: Promise<void> | undefined;

  constructor(
    private readonly outbox: OutboxService,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly attempts: WebhookAttempts,
    private readonly transactions: TransactionRunner,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    if (!this.config.webhooks.dispatch) return;
    this.schedule(DISPATCH_INTERVAL_MS);
    // Attempts in flight at shutdown finish before the pool closes, or are abandoned with the other
    // background work at its deadline: an attempt's delivery keeps its lease, and is retried once
    // the lease ends (at least once, never lost).
    this.background.addInFlight('webhook attempts in flight', async () => {
      this.onApplicationShutdown();
      await this.running;
      await this.fanningOut;
      await this.claims;
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    });
  }

  onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * The next fan-out after `delayMs`, then a claim for whatever slots are free (retries that came
   * due); a fan-out that found more than its bounds starts the next one at once.
   */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.fanOutRound().then((more) => {
        this.refill();
        this.schedule(more ? 0 : DISPATCH_INTERVAL_MS);
      });
    }, delayMs).unref();
  }

  /**
   * One whole round, for tests that drive time themselves: the fan-out, then attempts until
   * nothing due is left or ATTEMPTS_PER_TICK were claimed, waiting for each to end (claiming again
   * as slots free up). Whether it stopped at a bound with work left. A round still running is not
   * overlapped.
   */
  tick(): Promise<boolean> {
    this.running ??= this.drainRound()
      .catch((error: unknown) => {
        this.logger.warn({ err: safeErrorForLog(error) }, 'Webhook dispatch round failed; the next one retries');
        return false;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async drainRound(): Promise<boolean> {
    const more = await this.fanOutRound();
    let budget = ATTEMPTS_PER_TICK;
    for (;;) {
      // An attempt still recording when the claim looked holds its slot in what the claim saw.
      const busyBefore = this.inFlight.size;
      const claimed = budget > 0 ? await this.claim(budget) : 0;
      budget -= claimed;
      if (claimed === 0 && busyBefore === 0 && this.inFlight.size === 0) return more || budget === 0;
      const full = this.inFlight.size >= this.config.webhooks.dispatchConcurrency;
      if ((claimed === 0 || budget === 0 || full) && this.inFlight.size > 0) await Promise.race(this.inFlight);
    }
  }

  /** Up to FAN_OUT_BATCHES_PER_ROUND batches; whether the last one was full. A failure waits for the next round. */
  private fanOutRound(): Promise<boolean> {
    this.fanningOut ??= (async () => {
      let batch = 0;
      while (batch < FAN_OUT_BATCHES_PER_ROUND && (await this.fanOut()) === FAN_OUT_BATCH) batch++;
      return batch === FAN_OUT_BATCHES_PER_ROUND;
    })()
      .catch((error: unknown) => {
        this.logger.warn({ err: safeErrorForLog(error) }, 'Webhook fan-out failed; the next round retries');
        return false;
      })
      .finally(() => (this.fanningOut = undefined));
    return this.fanningOut;
  }

  /** A claim for the free slots, once: several asks while one is queued make that one claim. */
  private refill(): void {
    if (this.refillQueued || this.stopped) return;
    this.refillQueued = true;
    void this.claim(Infinity).catch((error: unknown) => this.logger.warn({ err: safeErrorForLog(error) }, 'Webhook claim failed; the next round retries'));
  }

  /** Claims up to `budget` due deliveries for this instance's free slots and starts their attempts; how many. */
  private claim(budget: number): Promise<number> {
    const run = this.claims.then(async () => {
      this.refillQueued = false;
      const free = Math.min(this.config.webhooks.dispatchConcurrency - this.inFlight.size, budget);
      if (free <= 0 || this.stopped) return 0;
      const now = this.clock.now();
      const limits = { limit: free, perEndpoint: this.config.webhooks.maxInFlightPerEndpoint };
      // The claim's own transaction: it commits without a WAL flush (WITHOUT_FLUSH), so it writes nothing else.
      const claimed = await this.transactions.run((tx) => this.deliveries.claimDue(tx, now, this.attempts.leaseFrom(now), limits));
      for (const item of claimed) this.start(item);
      return claimed.length;
    });
    this.claims = run.catch(() => 0);
    return run;
  }

  /**
   * An attempt that frees its slot once it is recorded, and (when this instance dispatches) claims
   * it again at once.
   */
  private start(item: ClaimedDelivery): void {
    const attempt = this.attempts
      .make(item)
      .then((sent) => (sent ? this.record(sent) : false))
      .catch((error: unknown) => {
        this.logger.warn({ err: safeErrorForLog(error) }, `Delivery ${item.delivery.id}: the attempt failed to record`);
        return false;
      })
      .then((handedOver) => {
        this.inFlight.delete(attempt);
        // A slot handed to a successor is still taken; one given back is claimed again, fairly.
        if (this.config.webhooks.dispatch && !handedOver) this.refill();
      });
    this.inFlight.add(attempt);
  }

  /**
   * Queues an attempt made for the next recording, which takes every attempt that ended meanwhile;
   * whether its slot went straight to a successor.
   */
  private record(sent: SentAttempt): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.unrecorded.push({ sent, resolve, reject });
      // After the I/O callbacks of this turn of the loop: the attempts answered together record together.
      if (this.unrecorded.length === 1) setImmediate(() => this.recordQueued());
    });
  }

  /** One statement for what is queued; what ends while it runs goes in the next. */
  private recordQueued(): void {
    if (this.recording || this.unrecorded.length === 0) return;
    const batch = this.unrecorded.splice(0);
    const sent = batch.map((queued) => queued.sent);
    this.recording = this.attempts
      .record(sent, this.handOverFor(sent))
      .then(
        (successors) => {
          // Each successor takes the slot of one attempt of its endpoint recorded here.
          const slots = new Map<string, number>();
          for (const successor of successors) {
            slots.set(successor.endpoint.id, (slots.get(successor.endpoint.id) ?? 0) + 1);
            this.start(successor);
          }
          for (const queued of batch) {
            const endpointId = queued.sent.claimed.endpoint.id;
            const left = slots.get(endpointId) ?? 0;
            if (left > 0) slots.set(endpointId, left - 1);
            queued.resolve(left > 0);
          }
        },
        (error: unknown) => batch.forEach((queued) => queued.reject(error)),
      )
      .finally(() => {
        this.recording = undefined;
        this.recordQueued();
      });
  }

  /**
   * The slots to hand over from a recording: one per attempt answered 2xx, to an endpoint whose
   * attempts here all were, while this instance dispatches and has a free slot for the fair claim
   * to give others (a full instance gives each slot back, so a busy endpoint cannot keep them all).
   */
  private handOverFor(sent: SentAttempt[]): { endpoints: Map<string, number> } | undefined {
    if (!this.config.webhooks.dispatch || this.stopped || this.inFlight.size >= this.config.webhooks.dispatchConcurrency) return undefined;
    const endpoints = new Map<string, number>();
    const unhealthy = new Set<string>();
    for (const { claimed, result } of sent) {
      const id = claimed.endpoint.id;
      if (!result.ok || !claimed.endpoint.enabled) unhealthy.add(id);
      else endpoints.set(id, (endpoints.get(id) ?? 0) + 1);
    }
    for (const id of unhealthy) endpoints.delete(id);
    return endpoints.size > 0 ? { endpoints } : undefined;
  }

  /**
   * Attempts this one due delivery now, under a lease as the rounds take it; false when it is not
   * pending or an attempt in flight holds it.
   */
  async attemptNow(deliveryId: string, before?: (tx: Transaction, now: Date) => Promise<boolean>): Promise<boolean> {
    const now = this.clock.now();
    // `before` (a retry's requeue) runs in the claim's transaction: the row it writes stays locked
    // until the claim, so no dispatcher round (which skips locked rows) takes the delivery between.
    const claimed = await this.transactions.run(async (tx) =>
      before && !(await before(tx, now)) ? undefined : this.deliveries.claimOne(tx, deliveryId, now, this.attempts.leaseFrom(now)),
    );
    if (!claimed) return false;
    await this.attempts.attempt(claimed);
    return true;
  }

  /** Sends a `ping` event to this endpoint now, as a delivery of its own (retried like any other); its id. */
  async ping(endpoint: { id: string; ownerId: string }): Promise<string> {
    const now = this.clock.now();
    const payload: PingPayload = { endpointId: endpoint.id, message: PING_MESSAGE };
    const event = publishedEvent({ id: newId('evt'), type: 'ping', payload, createdAt: now });
    const delivery: NewDelivery = {
      endpointId: endpoint.id,
      ownerId: endpoint.ownerId,
      subjectUserId: endpoint.ownerId,
      eventId: event.id,
      eventType: event.type,
      body: JSON.stringify(event),
      nextAttemptAt: now,
      createdAt: now,
    };
    const claimed = await this.transactions.run((tx) => this.deliveries.insertClaimed(tx, delivery, this.attempts.leaseFrom(now)));
    await this.attempts.attempt(claimed);
    return claimed.delivery.id;
  }

  /** Fans out up to one batch of outbox rows, their deliveries in one insert; how many it took. */
  private fanOut(): Promise<number> {
    return this.transactions.run(async (tx) => {
      const rows = await this.outbox.claimUndelivered(tx, FAN_OUT_BATCH);
      const now = this.clock.now();
      // Rows of one type about one user go to the same endpoints: asked once per batch.
      const subscribed = new Map<string, Promise<{ id: string; ownerId: string }[]>>();
      const deliveries: NewDelivery[] = [];
      for (const row of rows) {
        const userId = ownerOf(row);
        const key = `${row.type}|${userId ?? ''}`;
        if (!subscribed.has(key)) subscribed.set(key, this.deliveries.endpointsFor(tx, row.type, userId));
        const endpoints = await subscribed.get(key)!;
        if (endpoints.length === 0) continue;
        const event = publishedEvent(row);
        const body = JSON.stringify(event);
        for (const endpoint of endpoints) {
          deliveries.push({
            endpointId: endpoint.id,
            ownerId: endpoint.ownerId,
            subjectUserId: userId,
            eventId: event.id,
            eventType: row.type,
            body,
            nextAttemptAt: now,
          });
        }
      }
      await this.deliveries.insertMany(tx, deliveries);
      await this.outbox.markDelivered(
        tx,
        rows.map((row) => row.id),
        now,
      );
      return rows.length;
    });
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
