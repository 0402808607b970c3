import { Injectable, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { BatchWriter } from '../../common/batch-writer';
import { AppConfig, InjectConfig } from '../../config/config';
import { TransactionRunner } from '../../db/transaction';
import type { OutboxEvent } from '../outbox/outbox.events';
import { OutboxService } from '../outbox/outbox.service';
import { LicensesRepository } from './licenses.repository';

/** While the database is unreachable, events wait in memory up to this many; older ones are dropped. */
const MAX_PENDING_EVENTS = 100_000;
/** Past this many events waiting, a flush starts before its interval is up. */
const FLUSH_AT_EVENTS = 10_000;

export interface Validation {
  licenseId: string;
  activationId: string | null;
  at: Date;
  /** Null when no endpoint subscribes to `license.validated` for the license's owner. */
  event: OutboxEvent<'license.validated'> | null;
}

interface ValidationBatch {
  licenses: Map<string, Date>;
  activations: Map<string, Date>;
  events: OutboxEvent<'license.validated'>[];
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
  private readonly writer: BatchWriter<ValidationBatch>;
  /** Events dropped since start because too many waited for an unreachable database. */
  dropped = 0;

  constructor(
    private readonly repository: LicensesRepository,
    private readonly outbox: OutboxService,
    private readonly transactions: TransactionRunner,
    background: BackgroundTasks,
    @InjectConfig() config: AppConfig,
  ) {
    this.writer = new BatchWriter<ValidationBatch>(background, {
      name: 'license validation',
      intervalMs: config.licenses.validationFlushMs,
      flushAtSize: FLUSH_AT_EVENTS,
      empty: () => ({ licenses: new Map(), activations: new Map(), events: [] }),
      size: (batch) => batch.licenses.size + batch.events.length,
      write: (batch) =>
        this.transactions.run(async (tx) => {
          await this.repository.stampValidations(tx, batch.licenses, batch.activations);
          await this.outbox.appendAll(tx, batch.events);
        }),
      restore: (kept, current) => {
        for (const [id, at] of kept.licenses) laterOf(current.licenses, id, at);
        for (const [id, at] of kept.activations) laterOf(current.activations, id, at);
        const events = [...kept.events, ...current.events];
        this.dropped += Math.max(0, events.length - MAX_PENDING_EVENTS);
        current.events = events.slice(-MAX_PENDING_EVENTS);
      },
      describe: (batch) => `${batch.licenses.size} validation stamps and ${batch.events.length} license.validated events`,
    });
  }

  onModuleInit() {
    this.writer.start();
  }

  record(validation: Validation): void {
    const batch = this.writer.batch;
    laterOf(batch.licenses, validation.licenseId, validation.at);
    if (validation.activationId) laterOf(batch.activations, validation.activationId, validation.at);
    if (validation.event) {
      batch.events.push(validation.event);
      this.writer.added();
    }
  }

  /** Writes what has accumulated; flushes never overlap. */
  flush(): Promise<void> {
    return this.writer.flush();
  }
}

function laterOf(times: Map<string, Date>, id: string, at: Date): void {
  const seen = times.get(id);
  if (!seen || seen < at) times.set(id, at);
}
