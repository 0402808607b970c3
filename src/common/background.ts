import { FactoryProvider, Global, Injectable, InjectionToken, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../config/config';
import { Clock } from './clock';
import { safeErrorForLog } from './errors/safe-error';

type Step = { name: string; run: () => Promise<void> };

/**
 * Work done after the response is sent (mails, so that a request's timing does not reveal
 * whether an email exists), repeating jobs (the only scheduler: no setInterval elsewhere), and
 * final flushes. Failures are logged. Shutdown stops the jobs, waits for pending work a bounded
 * time (SHUTDOWN_TASKS_TIMEOUT_MS), then runs every flush, also bounded (SHUTDOWN_FLUSH_TIMEOUT_MS),
 * before the database pool closes: one task stuck on a stalled server can delay the stop, never
 * cancel the flushes.
 */
@Injectable()
export class BackgroundTasks {
  private readonly pending = new Map<Promise<void>, string>();
  private readonly inFlight: Step[] = [];
  private readonly finalizers: Step[] = [];
  private readonly logger = new Logger('BackgroundTasks');
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  run(name: string, work: () => Promise<void>): void {
    const task: Promise<void> = work()
      .catch((error: unknown) => this.logger.error({ err: safeErrorForLog(error) }, `${name} failed`))
      .finally(() => this.pending.delete(task));
    this.pending.set(task, name);
  }

  /**
   * The one scheduler: `work` every `intervalMs` in the background, as a task (failures logged,
   * and shutdown waits for a run under way like any other), on an unref'd timer so it never keeps
   * the process alive. Also once now unless `atStart` is false: a purge must run in processes
   * that live less than one interval; a flush of what has not yet been recorded need not. Every
   * job stops at `shutdown()`.
   */
  every(name: string, intervalMs: number, work: () => Promise<void>, { atStart = true }: { atStart?: boolean } = {}): void {
    this.timers.push(setInterval(() => this.run(name, work), intervalMs).unref());
    if (atStart) this.run(name, work);
  }

  /**
   * Work a component tracks itself (webhook attempts in flight) that shutdown waits for like a
   * pending task, within the same deadline, and abandons with them: `settle` stops new work and
   * resolves when what was started has ended.
   */
  addInFlight(name: string, settle: () => Promise<void>): void {
    this.inFlight.push({ name, run: settle });
  }

  /** Work to do once at shutdown, after pending tasks and before the pool closes (final flushes). */
  addFinalizer(name: string, run: () => Promise<void>): void {
    this.finalizers.push({ name, run });
  }

  /** The stop of a process: no job starts a run again, then the drain. */
  async shutdown(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.drain();
  }

  /**
   * Waits for pending tasks and in-flight work up to SHUTDOWN_TASKS_TIMEOUT_MS (logging what it
   * abandons, which hold no batch of their own), then runs every finalizer at once within
   * SHUTDOWN_FLUSH_TIMEOUT_MS. Rejects, after all of that, if a finalizer failed or outlived its
   * deadline: what it held in memory is lost, which the exit code must say. The jobs keep running
   * (tests drain to see the background work done, then go on: mails are still polled for).
   */
  async drain(): Promise<void> {
    const { tasksTimeoutMs, flushTimeoutMs } = this.config.shutdown;

    const settling = new Map(this.inFlight.map((step) => [this.logged(step), step.name] as const));
    for (const promise of settling.keys()) void promise.then(() => settling.delete(promise));
    const allSettled = async () => {
      while (this.pending.size > 0 || settling.size > 0) await Promise.allSettled([...this.pending.keys(), ...settling.keys()]);
    };
    if (!(await within(allSettled(), tasksTimeoutMs))) {
      const abandoned = [...this.pending.values(), ...settling.values()];
      this.logger.warn({ abandoned }, `Shutdown: abandoned ${abandoned.length} background task(s) still running after ${tasksTimeoutMs} ms`);
    }

    // At once: a slow flush must not eat another's deadline.
    const failed: string[] = [];
    await Promise.all(
      this.finalizers.map(async (finalizer) => {
        const outcome = await within(
          finalizer.run().then(
            () => undefined,
            (error: unknown) => ({ error }),
          ),
          flushTimeoutMs,
        );
        if (!outcome) this.logger.error(`${finalizer.name} did not finish within ${flushTimeoutMs} ms; what it held is lost`);
        else if (outcome.value) this.logger.error({ err: safeErrorForLog(outcome.value.error) }, `${finalizer.name} failed; what it held is lost`);
        else return;
        failed.push(finalizer.name);
      }),
    );
    if (failed.length > 0) throw new Error(`Final flushes failed: ${failed.join(', ')}`);
  }

  private logged(step: Step): Promise<void> {
    return step.run().catch((error: unknown) => this.logger.error({ err: safeErrorForLog(error) }, `${step.name} failed`));
  }
}

/** `{ value }` once `promise` settles, or false if `ms` pass first; never rejects if `promise` does not. */
async function within<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | false> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then((value) => ({ value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Rows one owner removes once they have outlived their use; the deletion SQL stays in its repository. */
export interface RetentionPolicy {
  /** What goes, as the log line says it: "outbox messages delivered over OUTBOX_RETENTION_DAYS ago". */
  name: string;
  /** Removes what has expired as of `now`; returns how many rows went. */
  purge(now: Date): Promise<number>;
}

/** Every policy runs this often, and once at boot (for processes that live less than an hour). */
export const RETENTION_INTERVAL_MS = 3_600_000;

/**
 * The one retention job: each module registers its policies (from a provider's onModuleInit), and
 * one hourly "retention" job runs them in turn, logging each removal in one shape. One policy
 * failing is logged and does not stop the others.
 */
@Injectable()
export class Retention implements OnApplicationBootstrap {
  private readonly policies = new Map<string, RetentionPolicy>();
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  register(policy: RetentionPolicy): void {
    if (this.policies.has(policy.name)) throw new Error(`Retention policy registered twice: ${policy.name}`);
    this.policies.set(policy.name, policy);
  }

  onApplicationBootstrap() {
    this.background.every('retention', RETENTION_INTERVAL_MS, () => this.runAll());
  }

  async runAll(): Promise<void> {
    for (const name of this.policies.keys()) {
      try {
        await this.run(name);
      } catch (error) {
        this.logger.error({ err: safeErrorForLog(error), policy: name }, `Retention of ${name} failed`);
      }
    }
  }

  /** Runs one policy now; returns how many rows it removed. */
  async run(name: string): Promise<number> {
    const policy = this.policies.get(name);
    if (!policy) throw new Error(`No retention policy named ${name}`);
    const removed = await policy.purge(this.clock.now());
    if (removed > 0) this.logger.log({ policy: name, removed }, `Removed ${removed} ${name}`);
    return removed;
  }
}

/**
 * A module's retention policies as one provider: `policies` receives what `inject` names (the
 * tables' owning repositories, the config) and what it returns is registered with Retention when
 * the module is built. The DELETEs stay in the repositories.
 */
export function retentionPolicies(inject: InjectionToken[], policies: (...deps: never[]) => RetentionPolicy[]): FactoryProvider<RetentionPolicy[]> {
  return {
    provide: Symbol('retention policies'),
    inject: [Retention, ...inject],
    useFactory: (retention: Retention, ...deps: unknown[]) => {
      // Nest hands over the instances `inject` names, in its order: the types `policies` declares.
      const registered = policies(...(deps as never[]));
      for (const policy of registered) retention.register(policy);
      return registered;
    },
  };
}

/** The cutoff `days` days before `now`. */
export const daysBefore = (now: Date, days: number): Date => new Date(now.getTime() - days * 86_400_000);

@Global()
@Module({ providers: [BackgroundTasks, Retention], exports: [BackgroundTasks, Retention] })
export class BackgroundModule {}
