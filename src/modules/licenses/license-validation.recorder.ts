import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { safeErrorForLog } from '../../common/errors/safe-error';
import { AppConfig, InjectConfig } from '../../config/config';
import { TransactionRunner } from '../../db/transaction';
import type { OutboxEvent } from '../outbox/outbox.events';
import { OutboxRepository } from '../outbox/outbox.repository';
import { LicensesRepository } from './licenses.repository';

/** While the database is unreachable, events wait in memory up to this many; older ones are dropped. */
const MAX_PENDING_EVENTS = 100_000;

export interface Validation {
  licenseId: string;
  activationId: string | null;
  at: Date;
  /** Null when no endpoint subscribes to `license.validated` for the license's owner. */
  event: OutboxEvent<'license.validated'> | null;
}

/**
 * What a VALID answer leaves behind (the license's and the activation's `lastValidatedAt`, and the
 * `license.validated` event) gathered in memory and written in one transaction per flush: no
 * database write on the validation path; a flush each LICENSE_VALIDATION_FLUSH_MS (1 s) and one on
 * graceful shutdown. A flush that fails is kept for the next one. A crash (not a graceful stop)
 * loses at most one interval of them.
 */
@Injectable()
export class LicenseValidationRecorder implements OnModuleInit {
  private licenses = new Map<string, Date>();
  private activations = new Map<string, Date>();
  private events: OutboxEvent<'license.validated'>[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly logger = new Logger('LicenseValidations');
  /** Events dropped since start because too many waited for an unreachable database. */
  dropped = 0;

  constructor(
    private readonly repository: LicensesRepository,
    private readonly outbox: OutboxRepository,
    private readonly transactions: TransactionRunner,
    private readonly background: BackgroundTasks,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.background.every('periodic license validation flush', this.config.licenses.validationFlushMs, () => this.flush(), { atStart: false });
    this.background.addFinalizer('license validation flush', async () => {
      await this.flush();
      // A failed flush keeps its batch for the next one; at shutdown there is none.
      if (this.licenses.size > 0 || this.events.length > 0) {
        throw new Error(`${this.licenses.size} validation stamps and ${this.events.length} license.validated events could not be written`);
      }
    });
  }

  record(validation: Validation): void {
    laterOf(this.licenses, validation.licenseId, validation.at);
    if (validation.activationId) laterOf(this.activations, validation.activationId, validation.at);
    if (validation.event) this.events.push(validation.event);
  }

  /** Writes what has accumulated; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.licenses.size === 0 && this.events.length === 0) return;
    const [licenses, activations, events] = [this.licenses, this.activations, this.events];
    this.licenses = new Map();
    this.activations = new Map();
    this.events = [];
    try {
      await this.transactions.run(async (tx) => {
        await this.repository.stampValidations(tx, licenses, activations);
        await this.outbox.appendAll(tx, events);
      });
    } catch (error) {
      this.logger.warn({ err: safeErrorForLog(error) }, 'Validation flush failed; keeping the batch for the next one');
      for (const [id, at] of licenses) laterOf(this.licenses, id, at);
      for (const [id, at] of activations) laterOf(this.activations, id, at);
      const kept = [...events, ...this.events];
      this.dropped += Math.max(0, kept.length - MAX_PENDING_EVENTS);
      this.events = kept.slice(-MAX_PENDING_EVENTS);
    }
  }
}

function laterOf(times: Map<string, Date>, id: string, at: Date): void {
  const seen = times.get(id);
  if (!seen || seen < at) times.set(id, at);
}
