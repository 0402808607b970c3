import type { Server } from 'node:http';
import { INestApplication, Logger } from '@nestjs/common';

/**
 * Cleanup steps registered as resources come up, run in reverse order on shutdown. Registered
 * before anything starts, so a signal during boot still stops what boot already started.
 */
export class Shutdown {
  private readonly tasks: Array<{ name: string; run: () => Promise<void> }> = [];
  private running: Promise<void> | undefined;
  private readonly logger = new Logger('Shutdown');

  add(name: string, run: () => Promise<void>): void {
    this.tasks.unshift({ name, run });
  }

  /** Runs every step once, even if an earlier one fails; later calls get the same promise. */
  run(): Promise<void> {
    this.running ??= (async () => {
      let failed = false;
      for (const task of this.tasks) {
        try {
          await task.run();
        } catch (error) {
          failed = true;
          this.logger.error(`${task.name} failed during shutdown: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (failed) throw new Error('Shutdown completed with errors');
    })();
    return this.running;
  }
}

/**
 * Nest's close: the HTTP server stops listening and waits for the requests in flight, then the
 * modules' shutdown hooks drain the background work, flush and close the pool. Requests still
 * running `requestsTimeoutMs` after the start have their connections closed (their clients see a
 * reset, never an answer), so a request stuck on a dependency cannot cost the steps after it.
 */
export async function closeApp(app: INestApplication, requestsTimeoutMs: number): Promise<void> {
  const server = app.getHttpServer() as Server;
  const cutOff = setTimeout(() => {
    server.getConnections((_error, open) => {
      new Logger('Shutdown').warn(`Shutdown: ${open} connection(s) still busy after ${requestsTimeoutMs} ms; closing them`);
      server.closeAllConnections();
    });
  }, requestsTimeoutMs).unref();
  server.once('close', () => clearTimeout(cutOff));
  try {
    await app.close();
  } finally {
    clearTimeout(cutOff);
  }
}

/**
 * SIGTERM/SIGINT: drain and exit 0, or exit 1 if a step fails (a final flush that could not write
 * what it held) or draining outlives `timeoutMs`, which the steps' own deadlines fit in (see
 * loadConfig). A repeated signal does not cut the drain short.
 */
export function exitOnSignals(shutdown: Shutdown, timeoutMs: number): void {
  const logger = new Logger('Shutdown');
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn(`${signal} received again; still draining`);
      return;
    }
    signalled = true;
    logger.log(`${signal} received: draining in-flight requests`);
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${timeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, timeoutMs).unref();
    shutdown.run().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
