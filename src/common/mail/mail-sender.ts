import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/config';
import { TransactionRunner } from '../../db/transaction';
import { BackgroundTasks } from '../background';
import { Clock } from '../clock';
import { SecretBox } from '../crypto/secret-box';
import { safeErrorForLog } from '../errors/safe-error';
import { I18nService } from '../i18n/i18n.service';
import { MailTransport, SendResult } from './mail-transport';
import type { RenderedMail } from './rendered-mail';
import { MailNextState, OutboundMailRow, OutboundMailsRepository } from './outbound-mails.repository';

const JITTER = 0.1;

/**
 * Delivers queued mails (outbound_mails). Every MAIL_POLL_INTERVAL_MS, and whenever a send ends, it
 * claims due mails for its free slots (MAIL_SEND_CONCURRENCY) under a lease, renders each in its
 * recipient's language and sends it. Each attempt is recorded on its row: a failure is retried with
 * exponential backoff, and after MAIL_MAX_ATTEMPTS (or a refusal of the message itself) the mail is
 * kept as FAILED. Claims lock with SKIP LOCKED and leases run past an attempt's own deadline, so any
 * number of instances share the work and none sends a mail another is sending.
 *
 * At shutdown it stops claiming; the sends in flight end within SMTP_SEND_TIMEOUT_MS and are recorded
 * before the pool closes. What was not sent stays PENDING for the next start.
 */
@Injectable()
export class MailSender implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Mail');
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Claims run one at a time, so two cannot both count the same free slots. */
  private claims: Promise<void> = Promise.resolve();
  private claimQueued = false;

  constructor(
    private readonly mails: OutboundMailsRepository,
    private readonly transactions: TransactionRunner,
    private readonly transport: MailTransport,
    private readonly i18n: I18nService,
    private readonly box: SecretBox,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    if (!this.config.mail.send) return;
    this.background.every('mail poll', this.config.mail.pollIntervalMs, () => Promise.resolve(this.refill()));
    // Before the pool closes: the sends in flight end (bounded by their deadline) and are recorded.
    this.background.addFinalizer('mail sends in flight', () => this.settle());
  }

  /**
   * Shutdown begins: no new claims (the HTTP server may still be draining). The poll runs on until
   * BackgroundTasks.shutdown stops it, and claims nothing.
   */
  beforeApplicationShutdown() {
    this.stopped = true;
  }

  /**
   * The claim under way and the sends in flight now, ended; at shutdown, the transport closed after
   * them. At shutdown the wait is bounded inside the flush deadline: a send stuck on a stalled
   * server loses nothing (its row stays PENDING under a lease that runs out, and it is sent again),
   * so it must not count as a flush that lost what it held.
   */
  async settle(): Promise<void> {
    const settled = Promise.allSettled([this.claims, ...this.inFlight]).then(() => true);
    if (!this.stopped) {
      await settled;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(this.config.shutdown.flushTimeoutMs - 250, 0))));
    const done = await Promise.race([settled, gaveUp]);
    clearTimeout(timer);
    if (!done) {
      this.logger.warn(`Shutdown: ${this.inFlight.size} mail send(s) still in flight; they stay queued and are sent again once their lease ends`);
    }
    this.transport.close();
  }

  /** Past an attempt's own deadline, so a live attempt always records before another may start. */
  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.config.mail.smtp.sendTimeoutMs * 2);
  }

  /** A claim for the free slots, once: several asks while one is queued make that one claim. */
  private refill(): void {
    if (this.claimQueued || this.stopped) return;
    this.claimQueued = true;
    this.claims = this.claims
      .then(async () => {
        this.claimQueued = false;
        const free = this.config.mail.concurrency - this.inFlight.size;
        if (free <= 0 || this.stopped) return;
        const now = this.clock.now();
        const claimed = await this.transactions.run((tx) => this.mails.claimDue(tx, now, this.leaseFrom(now), free));
        for (const mail of claimed) this.start(mail);
      })
      .catch((error: unknown) => {
        this.claimQueued = false;
        this.logger.warn({ err: safeErrorForLog(error) }, 'Claiming due mails failed; the next poll retries');
      });
  }

  /** An attempt that frees its slot when it ends, and asks for a claim at once (a backlog drains at SMTP's pace). */
  private start(mail: OutboundMailRow): void {
    const attempt = this.attempt(mail)
      .catch((error: unknown) => this.logger.warn({ err: safeErrorForLog(error) }, `Mail ${mail.id}: the attempt failed to record`))
      .finally(() => {
        this.inFlight.delete(attempt);
        this.refill();
      });
    this.inFlight.add(attempt);
  }

  private async attempt(mail: OutboundMailRow): Promise<void> {
    const at = this.clock.now();
    const rendered = this.render(mail);
    const result: SendResult = 'error' in rendered ? { ok: false, permanent: true, error: rendered.error } : await this.transport.send(rendered);
    const next = this.nextState(mail, result, at, this.clock.now());
    if (!(await this.mails.recordAttempt(mail.id, mail.leaseUntil!, next))) {
      this.logger.warn(`Mail ${mail.id}: its lease ran out during the attempt; another attempt records instead`);
      return;
    }
    this.report(mail, result, next);
  }

  /** Subject and text in the recipient's language, from the sealed parameters; an error when they cannot be read. */
  private render(mail: OutboundMailRow): RenderedMail | { error: string } {
    if (!this.i18n.has(`mail:${mail.template}.subject`, mail.language)) return { error: `RENDER: no template ${mail.template}` };
    let params: Record<string, string>;
    try {
      params = JSON.parse(this.box.open(mail.paramsSealed)) as Record<string, string>;
    } catch (error) {
      // A key rotated away, or a changed row: retrying cannot help.
      return { error: `RENDER: the parameters cannot be opened (${error instanceof Error ? error.message : 'unknown'})` };
    }
    const subject = this.i18n.translate(`mail:${mail.template}.subject`, mail.language, params);
    const text = this.i18n.translate(`mail:${mail.template}.text`, mail.language, params);
    return { to: mail.recipient, subject, text };
  }

  private nextState(mail: OutboundMailRow, result: SendResult, at: Date, now: Date): MailNextState {
    if (result.ok) return { status: 'SENT', nextAttemptAt: null, lastError: null, completedAt: now, lastAttemptAt: at };
    if (result.permanent || mail.attemptCount >= this.config.mail.maxAttempts) {
      return { status: 'FAILED', nextAttemptAt: null, lastError: result.error, completedAt: now, lastAttemptAt: at };
    }
    const { retryBaseMs, retryMaxMs } = this.config.mail;
    const delay = Math.min(retryBaseMs * 2 ** Math.min(mail.attemptCount - 1, 30), retryMaxMs) * (1 + (Math.random() * 2 - 1) * JITTER);
    return { status: 'PENDING', nextAttemptAt: new Date(now.getTime() + delay), lastError: result.error, completedAt: null, lastAttemptAt: at };
  }

  /** Never the recipient, nor the parameters (links with tokens): the mail's id finds its row. */
  private report(mail: OutboundMailRow, result: SendResult, next: MailNextState): void {
    if (result.ok) return;
    const error = result.error.split(mail.recipient).join('<recipient>');
    const fields = { event: 'mail_attempt_failed', mailId: mail.id, template: mail.template, attempt: mail.attemptCount, error };
    if (next.status === 'FAILED') this.logger.error({ ...fields, status: 'FAILED' }, `Mail ${mail.id} given up after ${mail.attemptCount} attempts`);
    else this.logger.warn({ ...fields, nextAttemptAt: next.nextAttemptAt!.toISOString() }, `Mail ${mail.id} not sent; it is retried`);
  }
}
