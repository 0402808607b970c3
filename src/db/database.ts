import { Logger } from '@nestjs/common';
import { drizzle, NodePgDatabase } from 'drizzle-orm/node-postgres';
import { Pool } from 'pg';
import * as schema from './schema';

export type Database = NodePgDatabase<typeof schema>;

export const DB = Symbol('DB');
export const DB_POOL = Symbol('DB_POOL');

export function createPool(options: { url: string; max: number; logger?: Logger }): Pool {
  const logger = options.logger ?? new Logger('Database');
  const pool = new Pool({
    connectionString: options.url,
    max: options.max,
    // Fail fast while the database is unreachable, so requests get a 503 instead of hanging.
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: 'gatehouse',
  });
  // An idle client whose server connection dies emits 'error' on the pool; unhandled, it kills Node.
  // The pool has already discarded that client, and the next checkout opens a fresh connection.
  pool.on('error', (error) => logger.warn(`Idle database connection lost: ${error.message}`));
  // pg-pool removes its listener while a client is checked out; a connection killed between two
  // queries of a transaction would then emit an unhandled 'error'. The query in flight fails on
  // its own and the client is discarded on release.
  pool.on('connect', (client) => client.on('error', (error) => logger.warn(`Database connection lost: ${error.message}`)));
  return pool;
}

export function createDatabase(pool: Pool): Database {
  return drizzle({ client: pool, schema, casing: 'snake_case' });
}
