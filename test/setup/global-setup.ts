import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { createPool } from '../../src/db/database';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { runMigrations } from '../../src/db/migrate';
import { useRunTempRoot } from './temp-root';
import { createDatabase, dropDatabase, TestDatabaseInfo, uniqueTestDatabaseName } from './test-database';

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: TestDatabaseInfo;
  }
}

/**
 * Finds the test Postgres (TEST_DATABASE_URL, else DATABASE_URL, else an embedded one started
 * here), migrates a template database once, and hands its name to the test files, which each
 * clone it with CREATE DATABASE ... TEMPLATE.
 */
export default async function setup(project: TestProject) {
  Logger.overrideLogger(['error', 'warn']);
  const removeTempRoot = await useRunTempRoot();
  const configured = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let dataDir: string | undefined;
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  if (!configured) {
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-test-pg-'));
    embedded = await startEmbeddedPostgres({ dir: dataDir, port: 0, database: 'gatehouse_test' });
  }
  const adminUrl = configured ?? embedded!.url;
  const template = uniqueTestDatabaseName('template');
  const templateUrl = await createDatabase(adminUrl, template);
  const pool = createPool({ url: templateUrl, max: 1 });
  try {
    await runMigrations(pool);
  } finally {
    await pool.end();
  }
  project.provide('testDatabase', { adminUrl, template });

  return async () => {
    await dropDatabase(adminUrl, template).catch(() => undefined);
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await removeTempRoot();
  };
}
