import { Logger } from '@nestjs/common';
import { BackgroundTasks } from './background';
import { safeErrorForLog } from './errors/safe-error';

/** What a BatchWriter needs to know about one kind of batch. */
export interface BatchSpec<B> {
  /** Names the jobs and the log lines ("API key usage"). */
  name: string;
  /** A flush this often, and one at graceful shutdown. */
  intervalMs: number;
  /** Also a flush as soon as this much waits (once per successful flush: never a loop during an outage). */
  flushAtSize?: number;
  empty(): B;
  /** How much waits in `batch`; 0 means nothing to write. */
  size(batch: B): number;
  /** Writes the whole batch (one transaction); a throw keeps it for the next flush. */
  write(batch: B): Promise<void>;
  /**
   * For failures the spec handles itself (rows the database refuses on their own): what of the
   * batch to keep, having written or dropped the rest. Undefined: keep it all, and the writer logs.
   */
  recover?(error: unknown, batch: B): Promise<B> | undefined;
  /** Puts a kept batch back into `current` (what accumulated meanwhile), bounding what waits. */
  restore(kept: B, current: B): void;
  /** What a batch holds, in the error that says it is lost at shutdown. */
  describe(batch: B): string;
}

/**
 * The one batch writer: a recorder adds to `batch` in place (nothing written on the request
 * path), and the batch reaches the database on an interval (BackgroundTasks.every), when it
 * reaches `flushAtSize`, and once more at graceful shutdown. Flushes never overlap. A batch that
 * fails is kept, before what came since, for the next flush; at shutdown there is none, so what
 * could not be written fails the finalizer, which the exit code says.
 */
export class BatchWriter<B> {
  private current: B;
  private flushing: Promise<void> = Promise.resolve();
  /** Whether reaching `flushAtSize` may start a flush (until one has, and a flush succeeded since). */
  private sizeFlushArmed = true;
  private readonly logger: Logger;

  constructor(
    private readonly background: BackgroundTasks,
    private readonly spec: BatchSpec<B>,
  ) {
    this.current = spec.empty();
    this.logger = new Logger(spec.name);
  }

  /** The batch being filled. Read it again after any await: a flush swaps it. */
  get batch(): B {
    return this.current;
  }

  /** Schedules the periodic flush and the final one (from a provider's onModuleInit). */
  start(): void {
    this.background.every(`periodic ${this.spec.name} flush`, this.spec.intervalMs, () => this.flush(), { atStart: false });
    this.background.addFinalizer(`${this.spec.name} flush`, async () => {
      await this.flush();
      if (this.spec.size(this.current) > 0) throw new Error(`${this.spec.describe(this.current)} could not be written`);
    });
  }

  /** Call after adding to `batch`: starts a flush once `flushAtSize` is reached. */
  added(): void {
    const { flushAtSize } = this.spec;
    if (flushAtSize === undefined || !this.sizeFlushArmed || this.spec.size(this.current) < flushAtSize) return;
    this.sizeFlushArmed = false;
    this.background.run(`${this.spec.name} flush at size`, () => this.flush());
  }

  /** Writes what has accumulated; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.spec.size(this.current) === 0) return;
    const batch = this.current;
    this.current = this.spec.empty();
    try {
      await this.spec.write(batch);
      this.sizeFlushArmed = true;
    } catch (error) {
      const recovering = this.spec.recover?.(error, batch);
      if (!recovering) this.logger.warn({ err: safeErrorForLog(error) }, `${this.spec.name} flush failed; keeping the batch for the next one`);
      const kept = recovering ? await recovering : batch;
      // Read after the await: records made meanwhile went to the batch the flush started.
      this.spec.restore(kept, this.current);
    }
  }
}
