import 'reflect-metadata';
import { Logger, Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.setup';
import { compileDeferredSerializers } from './common/http/response-schemas';
import { BootLogger } from './common/logging/boot-logger';
import { AppConfig, ConfigError, loadConfig, readProcessEnv } from './config/config';
import { DatabaseUnreachableError } from './db/migrate';
import { openDatabase } from './db/open-database';
import { closeApp, exitOnSignals, Shutdown } from './lifecycle';

/** The bundle this process runs from, when it does (set by run()). */
let loadedFrom: { file: string } | undefined;

export interface RunningServer {
  app: NestFastifyApplication;
  url: string;
}

/**
 * Boots Gatehouse: database (embedded when DATABASE_URL is unset), migrations, HTTP. Each resource
 * registers its cleanup on `shutdown` as soon as it exists.
 */
export async function bootstrap(options: { config: AppConfig; shutdown: Shutdown; extraModules?: Type[] }): Promise<RunningServer> {
  const { config, shutdown } = options;
  // Until the app's pino logger exists (embedded Postgres, migrations), the same pino format and level.
  Logger.overrideLogger(new BootLogger(config.logLevel));
  if (loadedFrom) new Logger('Bootstrap').log(`Server code from ${loadedFrom.file}`);

  const database = await openDatabase(config);
  shutdown.add('embedded Postgres', database.stop);
  const app = await createApp({ config, databaseUrl: database.url, migrate: true, extraModules: options.extraModules });
  // Fastify stops accepting connections and waits for in-flight requests (a bounded time); then
  // background work (bounded), the final flushes (bounded) and the pool (bounded).
  shutdown.add('HTTP server and pool', () => closeApp(app, config.shutdown.requestsTimeoutMs));
  await app.listen({ port: config.port, host: config.host });
  // Deferred from the boot: the response serializers no answer has compiled yet, in the background.
  compileDeferredSerializers(app).catch((error: unknown) => new Logger('Bootstrap').error(error, 'A response serializer failed to compile'));
  const url = await app.getUrl();
  // Where it listens, and where a person opens the docs: the public URL (in development http://localhost:<PORT>).
  new Logger('Bootstrap').log(`Gatehouse listening on ${url} (docs at ${config.publicBaseUrl}/docs)`);
  return { app, url };
}

/** Entry point of `npm start`, and of process-level tests (which may add probe modules). */
export async function main(extraModules: Type[] = []): Promise<void> {
  // Even a config error is a pino JSON line: one format from the first line on.
  const boot = new BootLogger();
  let config: AppConfig;
  try {
    config = loadConfig(readProcessEnv());
  } catch (error) {
    if (error instanceof ConfigError) {
      boot.pino.fatal({ context: 'Config', problems: error.problems }, error.message);
      process.exit(1);
    }
    throw error;
  }
  const shutdown = new Shutdown();
  exitOnSignals(shutdown, config.shutdown.timeoutMs);
  try {
    await bootstrap({ config, shutdown, extraModules });
  } catch (error) {
    await shutdown.run().catch(() => undefined);
    throw error;
  }
}

/**
 * Runs `main()` as the process: a failure to start is one fatal line, then exit 1. `bundle` is
 * what dist/main.js loaded the server from (src/main.ts), said in one line at start.
 */
export function run(bundle?: { file: string }): void {
  loadedFrom = bundle;
  main().catch((error: unknown) => {
    // A database that is not there is a deployment's state, not a crash: the line says what to fix.
    const reason = error instanceof DatabaseUnreachableError ? `: ${error.message}` : '';
    new BootLogger().pino.fatal({ context: 'Bootstrap', err: error }, `Gatehouse failed to start${reason}`);
    process.exit(1);
  });
}
