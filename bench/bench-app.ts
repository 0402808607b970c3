import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { createApp } from '../src/app.setup';
import { loadConfig } from '../src/config/config';
import { openDatabase } from '../src/db/open-database';

export type BenchApp = Awaited<ReturnType<typeof startBenchApp>>;

/**
 * The real app (createApp, the production pipeline) listening on loopback, on a fresh embedded
 * PostgreSQL 17 (or DATABASE_URL), with `env` on top (each benchmark lifts its own rate limits).
 */
export async function startBenchApp(env: Record<string, string>) {
  Logger.overrideLogger(['error']);
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    JWT_SECRET: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    EMBEDDED_POSTGRES_DIR: mkdtempSync(join(tmpdir(), 'gatehouse-bench-pg-')),
    ...env,
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  });
  const database = await openDatabase(config);
  const app = await createApp({ config, databaseUrl: database.url, migrate: true });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url: await app.getUrl(),
    databaseUrl: database.url,
    stop: async () => {
      await app.close();
      await database.stop();
      rmSync(config.database.embeddedDir, { recursive: true, force: true });
    },
  };
}
