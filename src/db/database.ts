import { Logger } from '@nestjs/common';
import { drizzle, NodePgDatabase, NodePgSession } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import { Pool } from 'pg';
import * as schema from './schema';

export type Database = NodePgDatabase<typeof schema>;

export const DB = Symbol('DB');
export const DB_POOL = Symbol('DB_POOL');

/** Server-side limits for every connection of a serving pool (AppConfig['database']). */
export interface PoolTimeouts {
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/**
 * Without `timeouts` (CLIs, the test template) statements may run as long as they need; a serving
 * pool passes them, so a hung query, a held row lock or a forgotten transaction ends in a 503
 * (57014, 55P03) instead of holding a connection until the whole pool is stuck.
 */
export function createPool(options: { url: string; max: number; timeouts?: PoolTimeouts; logger?: Logger }): Pool {
  const logger = options.logger ?? new Logger('Database');
  const { timeouts } = options;
  const pool = new Pool({
    connectionString: options.url,
    max: options.max,
    // Fail fast while the database is unreachable, so requests get a 503 instead of hanging.
    connectionTimeoutMillis: timeouts?.connectTimeoutMs ?? 3_000,
    idleTimeoutMillis: 30_000,
    application_name: 'gatehouse',
    ...(timeouts && {
      statement_timeout: timeouts.statementTimeoutMs,
      lock_timeout: timeouts.lockTimeoutMs,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs,
    }),
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
  const db = drizzle({ client: pool, schema, casing: 'snake_case' });
  // What drizzle derived from the schema for relational queries, derived once: deriving it again
  // for each transaction's connection cost more than the transaction's own work.
  const relational = { schema: db._.schema!, fullSchema: db._.fullSchema, tableNamesMap: db._.tableNamesMap };
  const dialect = new PgDialect({ casing: 'snake_case' });
  // drizzle 0.45 checks a connection out for a transaction and sends BEGIN before its try/finally:
  // when BEGIN fails (a connection that died while idle, a database going down), the connection
  // is never released, and an outage slowly drains the pool for good. Here the connection is
  // ours, and released whatever happens; pg-pool discards it if it is broken.
  const transaction: Database['transaction'] = async (work, config) => {
    const client = await pool.connect();
    try {
      const session = new NodePgSession(client, dialect, relational);
      return await new NodePgDatabase(dialect, session, relational).transaction(work, config);
    } finally {
      client.release();
    }
  };
  return Object.assign(db, { transaction });
}

/** The handle a transaction's callback receives; repository steps of a caller's transaction take it first. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Where a repository method runs: on its own, or inside a caller's transaction. */
export type Executor = Database | Transaction;
