import 'reflect-metadata';
import { ConsoleLogger, Logger, LogLevel, Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.setup';
import { AppConfig, ConfigError, loadConfig, readProcessEnv } from './config/config';
import { EmbeddedPostgres, startEmbeddedPostgres } from './db/embedded-postgres';

export interface RunningServer {
  app: NestFastifyApplication;
  url: string;
  /** Drains in-flight requests, closes the pool, stops embedded Postgres. Idempotent. */
  shutdown(): Promise<void>;
}

/** Boots Gatehouse: config, database (embedded when DATABASE_URL is unset), migrations, HTTP. */
export async function bootstrap(options: { extraModules?: Type[]; config?: AppConfig } = {}): Promise<RunningServer> {
  const config = options.config ?? loadConfig(readProcessEnv());
  // Until the app's pino logger exists (embedded Postgres, migrations), log JSON at the same level.
  Logger.overrideLogger(new ConsoleLogger({ json: true, logLevels: nestLogLevels(config.logLevel) }));
  let embedded: EmbeddedPostgres | undefined;
  let app: NestFastifyApplication | undefined;
  let url: string;
  try {
    if (!config.database.url) {
      embedded = await startEmbeddedPostgres({ dir: config.database.embeddedDir, port: config.database.embeddedPort, database: 'gatehouse' });
    }
    const databaseUrl = config.database.url ?? embedded!.url;
    app = await createApp({ config, databaseUrl, migrate: true, extraModules: options.extraModules });
    await app.listen({ port: config.port, host: config.host });
    url = await app.getUrl();
  } catch (error) {
    await app?.close().catch(() => undefined);
    await embedded?.stop();
    throw error;
  }
  new Logger('Bootstrap').log(`Gatehouse listening on ${url} (docs at ${url}/docs)`);

  const running = app;
  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      // Fastify stops accepting connections and waits for in-flight requests; then the pool closes.
      await running.close();
      await embedded?.stop();
    })());
  return { app: running, url, shutdown };
}

function nestLogLevels(level: AppConfig['logLevel']): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const index = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5, silent: -1 }[level];
  return order.slice(0, index + 1);
}

/** SIGTERM/SIGINT: drain and exit 0, or exit 1 if draining outlives the shutdown timeout. */
function exitGracefully(server: RunningServer, timeoutMs: number) {
  const logger = new Logger('Shutdown');
  const onSignal = (signal: NodeJS.Signals) => {
    logger.log(`${signal} received: draining in-flight requests`);
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${timeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, timeoutMs).unref();
    server.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`Shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

async function main() {
  let config: AppConfig;
  try {
    config = loadConfig(readProcessEnv());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const server = await bootstrap({ config });
  exitGracefully(server, config.shutdownTimeoutMs);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`Gatehouse failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

export { exitGracefully };
