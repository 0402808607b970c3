import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Pool } from 'pg';
import { createPool } from './database';

export const MIGRATIONS_FOLDER = resolve(__dirname, '../../drizzle');

// Any fixed 64-bit number works; this one spells "gatehouse migrations" to whoever reads pg_locks.
export const MIGRATION_LOCK_KEY = 7_220_462_845_103_001;

/**
 * Applies pending migrations while holding a session-level advisory lock. drizzle's migrate() takes
 * no lock of its own, so two instances booting together would both try to apply the same files;
 * with the lock the second waits, then finds nothing left to do.
 */
export async function runMigrations(pool: Pool, logger = new Logger('Migrations')): Promise<void> {
  const client = await pool.connect().catch((error: unknown) => {
    throw new DatabaseUnreachableError(pool.options.connectionString, error);
  });
  try {
    // A migration may rewrite a large table, and a second instance waits here for the first one's
    // lock: neither is bounded by the serving pool's timeouts. RESET restores them for later users.
    await client.query('SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
    logger.log('Database schema is up to date');
  } finally {
    // A connection whose RESET failed would keep no timeouts: it is discarded instead of reused.
    const resetFailed = await client.query('RESET statement_timeout; RESET lock_timeout; RESET idle_in_transaction_session_timeout').then(
      () => false,
      () => true,
    );
    client.release(resetFailed);
  }
}

/**
 * The migrations of a starting server, on a connection of their own: the serving pool's limits
 * (statement, lock and query timeouts) must not cut a long migration short. A database that does
 * not accept a connection within `connectTimeoutMs` fails the start (DatabaseUnreachableError).
 */
export async function migrateDatabase(url: string, connectTimeoutMs: number, logger?: Logger): Promise<void> {
  const pool = createPool({ url, max: 1, connectTimeoutMs, logger });
  try {
    await runMigrations(pool, logger);
  } finally {
    await pool.end();
  }
}

/** No connection could be opened (refused, timed out, unknown host, refused login); names the server, never the credentials. */
export class DatabaseUnreachableError extends Error {
  constructor(url: string | undefined, cause: unknown) {
    super(`cannot connect to the database at ${describeServer(url)}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DatabaseUnreachableError';
  }
}

function describeServer(url: string | undefined): string {
  try {
    const { hostname, port, pathname } = new URL(url ?? '');
    return `${hostname}:${port || '5432'}${pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
