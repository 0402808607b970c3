import { Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { InjectOptions, LightMyRequestResponse as Response } from 'fastify';
import { Client } from 'pg';
import type { DestinationStream } from 'pino';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp } from '../../src/app.setup';
import { compileDeferredSerializers } from '../../src/common/http/response-schemas';
import { AppConfig, loadConfig } from '../../src/config/config';
import { createDatabase, dropDatabase, uniqueTestDatabaseName } from '../setup/test-database';
import { OpenApiContract } from './openapi-contract';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template: each test file gets its own. */
export async function createTestDatabase(kind = 'db'): Promise<TestDatabase> {
  const { adminUrl, template } = inject('testDatabase');
  const name = uniqueTestDatabaseName(kind);
  const url = await createDatabase(adminUrl, name, template);
  return { url, name, drop: () => dropDatabase(adminUrl, name) };
}

/** An empty (unmigrated) database, for tests of the migrations themselves. */
export async function createEmptyTestDatabase(kind = 'empty'): Promise<TestDatabase> {
  const { adminUrl } = inject('testDatabase');
  const name = uniqueTestDatabaseName(kind);
  const url = await createDatabase(adminUrl, name);
  return { url, name, drop: () => dropDatabase(adminUrl, name) };
}

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** Every test request comes from one IP; the rate-limit tests set their own limits back. */
const UNLIMITED = Object.fromEntries(
  [
    'PUBLIC',
    'AUTHENTICATED',
    'LOGIN',
    'REGISTER',
    'TWO_FACTOR',
    'TWO_FACTOR_CHALLENGE',
    'PASSWORD_RESET_REQUEST',
    'ACCOUNT_ACTIVATE',
    'LICENSE_VALIDATE',
    'LICENSE_ACTIVATE',
    'LICENSE_DEACTIVATE',
  ].map((name) => [`RATE_LIMIT_${name}`, '100000/60']),
);

export function testConfig(env: Record<string, string> = {}): AppConfig {
  // Webhook dispatch polls every second: only the tests about it switch it on.
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    COOKIE_SECURE: 'false',
    WEBHOOK_DISPATCH: 'false',
    // Queued mails reach the test's SMTP server within about this, instead of the production second.
    MAIL_POLL_INTERVAL_MS: '50',
    ...UNLIMITED,
    ...env,
  });
}

export interface TestApp {
  app: NestFastifyApplication;
  database: TestDatabase;
  close(): Promise<void>;
}

export interface TestAppOptions {
  extraModules?: Type[];
  env?: Record<string, string>;
  database?: TestDatabase;
  migrate?: boolean;
  /** Captures the app's log lines (give LOG_LEVEL in `env` too; tests log nothing by default). */
  logDestination?: DestinationStream;
}

/** The production pipeline (createApp -> configureApp) on a cloned database, ready for app.inject(). */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase('app'));
  const app = await createApp({
    config: testConfig(options.env),
    databaseUrl: database.url,
    migrate: options.migrate ?? false,
    extraModules: options.extraModules,
    logDestination: options.logDestination,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  // As the server does right after it listens; here before any request, so a schema that cannot compile fails every test.
  await compileDeferredSerializers(app);
  checkResponsesAgainstSpec(app);
  return {
    app,
    database,
    close: async () => {
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}

let contract: OpenApiContract | undefined;

/**
 * Every response a test receives from a documented operation must match the committed spec
 * (status, media type, body schema), or the request fails the test that made it.
 */
function checkResponsesAgainstSpec(app: NestFastifyApplication): void {
  contract ??= new OpenApiContract();
  const spec = contract;
  // app.inject() delegates to the adapter's; the Nest app itself is a proxy that refuses new properties.
  const adapter = app.getHttpAdapter() as unknown as { inject: (options: InjectOptions | string) => Promise<Response> };
  const inject = adapter.inject.bind(adapter);
  adapter.inject = async (options) => {
    const response = await inject(options);
    const { method = 'GET', url = '/' } = typeof options === 'string' ? { url: options } : { method: options.method, url: requestUrl(options) };
    spec.assert(method, url, response);
    return response;
  };
}

function requestUrl(options: InjectOptions): string {
  if (typeof options.url === 'string') return options.url;
  return options.path && typeof options.path === 'string' ? options.path : String(options.url?.pathname ?? '/');
}

/**
 * For a test file's `describe`: an app on its own cloned database and a direct SQL client to
 * check what it wrote, created before the tests and closed after them. Read `ctx.t` and `ctx.db`
 * inside hooks and tests (they exist once beforeAll has run).
 */
export function useTestApp(options: TestAppOptions | (() => TestAppOptions | Promise<TestAppOptions>) = {}) {
  const ctx = {} as { t: TestApp; db: Client };
  beforeAll(async () => {
    // A function runs inside the hook: after earlier beforeAll hooks started fakes the env names.
    ctx.t = await createTestApp(typeof options === 'function' ? await options() : options);
    ctx.db = new Client({ connectionString: ctx.t.database.url });
    await ctx.db.connect();
  });
  afterAll(async () => {
    await ctx.db?.end();
    await ctx.t?.close();
  });
  return ctx;
}
