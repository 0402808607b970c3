import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Pool } from 'pg';

export const MIGRATIONS_FOLDER = resolve(__dirname, '../../drizzle');

// Any fixed 64-bit number works; this one spells "gatehouse migrations" to whoever reads pg_locks.
export const MIGRATION_LOCK_KEY = 7_220_462_845_103_001;

/**
 * Applies pending migrations while holding a session-level advisory lock. drizzle's migrate() takes
 * no lock of its own, so two instances booting together would both try to apply the same files;
 * with the lock the second waits, then finds nothing left to do.
 */
export async function runMigrations(pool: Pool, logger = new Logger('Migrations')): Promise<void> {
  const client = await pool.connect();
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
