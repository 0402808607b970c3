import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { Inject } from '@nestjs/common';
import { z } from 'zod';
import { envSchema } from './env.schema';

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  publicBaseUrl: string;
  corsOrigins: string[];
  trustProxy: string[];
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  database: {
    /** Absent means: start the embedded Postgres. */
    url: string | undefined;
    poolMax: number;
    embeddedDir: string;
    embeddedPort: number;
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
export const InjectConfig = () => Inject(APP_CONFIG);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (from readProcessEnv(), or a test's own) into the typed config, or throws naming each bad variable. */
export function loadConfig(source: Record<string, string | undefined>): AppConfig {
  const result = envSchema.safeParse(withoutBlanks(source));
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  const env = result.data;
  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    publicBaseUrl: env.PUBLIC_BASE_URL,
    corsOrigins: env.CORS_ORIGINS,
    trustProxy: env.TRUST_PROXY,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    database: {
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      embeddedDir: env.EMBEDDED_POSTGRES_DIR,
      embeddedPort: env.EMBEDDED_POSTGRES_PORT,
    },
  };
}

/**
 * The process environment with `.env` (when present) underneath it: a variable set in the real
 * environment wins over the file, as with every dotenv loader.
 */
export function readProcessEnv(cwd = process.cwd()): Record<string, string | undefined> {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...process.env };
}

/** An empty variable (`PORT=`) means "not set", so defaults apply instead of a confusing parse error. */
function withoutBlanks(source: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
}

export type EnvInput = z.input<typeof envSchema>;
