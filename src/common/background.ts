import { Global, Injectable, Logger, Module } from '@nestjs/common';
import { safeErrorForLog } from './errors/safe-error';

/**
 * Work done after the response is sent (mails, so that a request's timing does not reveal
 * whether an email exists). Failures are logged; shutdown waits for what is still running
 * before the database pool closes.
 */
@Injectable()
export class BackgroundTasks {
  private readonly pending = new Set<Promise<void>>();
  private readonly logger = new Logger('BackgroundTasks');

  run(name: string, work: () => Promise<void>): void {
    const task = work()
      .catch((error: unknown) => this.logger.error({ err: safeErrorForLog(error) }, `${name} failed`))
      .finally(() => this.pending.delete(task));
    this.pending.add(task);
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

@Global()
@Module({ providers: [BackgroundTasks], exports: [BackgroundTasks] })
export class BackgroundModule {}
