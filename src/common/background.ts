import { Global, Injectable, Logger, Module } from '@nestjs/common';
import { safeErrorForLog } from './errors/safe-error';

/**
 * Work done after the response is sent (mails, so that a request's timing does not reveal
 * whether an email exists), and final flushes. Failures are logged; shutdown waits for both
 * before the database pool closes.
 */
@Injectable()
export class BackgroundTasks {
  private readonly pending = new Set<Promise<void>>();
  private readonly finalizers: Array<{ name: string; run: () => Promise<void> }> = [];
  private readonly logger = new Logger('BackgroundTasks');
  private readonly timers: NodeJS.Timeout[] = [];

  run(name: string, work: () => Promise<void>): void {
    const task = work()
      .catch((error: unknown) => this.logger.error({ err: safeErrorForLog(error) }, `${name} failed`))
      .finally(() => this.pending.delete(task));
    this.pending.add(task);
  }

  /**
   * `work` now (for processes that live less than one interval) and every `intervalMs` after, in
   * the background; it stops when shutdown drains. For the hourly purges and prunes.
   */
  every(name: string, intervalMs: number, work: () => Promise<void>): void {
    this.timers.push(setInterval(() => this.run(name, work), intervalMs).unref());
    this.run(name, work);
  }

  /** Work to do once at shutdown, after pending tasks and before the pool closes (final flushes). */
  addFinalizer(name: string, run: () => Promise<void>): void {
    this.finalizers.push({ name, run });
  }

  async drain(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    for (const finalizer of this.finalizers) {
      await finalizer.run().catch((error: unknown) => this.logger.error({ err: safeErrorForLog(error) }, `${finalizer.name} failed`));
    }
  }
}

@Global()
@Module({ providers: [BackgroundTasks], exports: [BackgroundTasks] })
export class BackgroundModule {}
