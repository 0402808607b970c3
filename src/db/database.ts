import { Logger } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { drizzle, NodePgDatabase, NodePgSession, NodePgTransaction } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import { Pool } from 'pg';
import { causeChain } from '../lib/cause-chain';
import * as schema from './schema';

export type Database = NodePgDatabase<typeof schema>;

export const DB = Symbol('DB');
export const DB_POOL = Symbol('DB_POOL');

/** Limits for every connection of a serving pool (AppConfig['database']). */
export interface PoolTimeouts {
  connectTimeoutMs: number;
  /** Client-side: the longest the driver waits for the server's answer to one query. */
  queryTimeoutMs: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/** pg's error when `query_timeout` runs out; it has no code. */
const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';
/** An idle connection to a host that vanished (no FIN, no RST) is probed after this long. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * Without `timeouts` (CLIs, migrations, the test template) statements may run as long as they
 * need; a serving pool passes them, so a hung query, a held row lock or a forgotten transaction
 * ends in a 503 (57014, 55P03) instead of holding a connection until the whole pool is stuck.
 * Those limits are the server's, and a frozen server enforces none of them: the client's own
 * query timeout is what bounds a request then.
 */
export function createPool(options: { url: string; max: number; timeouts?: PoolTimeouts; connectTimeoutMs?: number; logger?: Logger }): Pool {
  const logger = options.logger ?? new Logger('Database');
  const { timeouts } = options;
  const pool = new Pool({
    connectionString: options.url,
    max: options.max,
    // Fail fast while the database is unreachable, so requests get a 503 instead of hanging.
    connectionTimeoutMillis: timeouts?.connectTimeoutMs ?? options.connectTimeoutMs ?? 3_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    application_name: 'gatehouse',
    ...(timeouts && {
      query_timeout: timeouts.queryTimeoutMs,
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

/**
 * Whether the driver gave up waiting for the server's answer. The query is still on the
 * connection, and whatever is sent next would queue behind it: such a connection is closed,
 * never reused (pool.query does so itself; transactions below).
 */
export function isQueryTimeout(error: unknown): boolean {
  return causeChain(error).some((link) => link.message === QUERY_TIMEOUT_MESSAGE);
}

export function createDatabase(pool: Pool): Database {
  const db = drizzle({ client: pool, schema, casing: 'snake_case' });
  // What drizzle derived from the schema for relational queries, derived once: deriving it again
  // for each transaction's connection cost more than the transaction's own work.
  // Private drizzle API, checked against drizzle-orm 0.45.4: `db._` (schema, fullSchema,
  // tableNamesMap) and the constructors of NodePgSession(client, dialect, schema) and
  // NodePgTransaction(dialect, session, schema). drizzle offers no public way to run its
  // transaction object on a connection we manage; test/medium/database-private-api.medium-spec.ts
  // fails when that shape changes (and on any other drizzle-orm version, to have this re-read).
  const relational = { schema: db._.schema!, fullSchema: db._.fullSchema, tableNamesMap: db._.tableNamesMap };
  const dialect = new PgDialect({ casing: 'snake_case' });
  // Not drizzle's own: it sends BEGIN before its try/finally, so a failed BEGIN leaked the
  // connection and an outage slowly drained the pool for good; and after a query timeout its
  // ROLLBACK waits behind the unanswered query for a second timeout, then the connection goes
  // back to the pool still waiting. Here the connection is released whatever happens, and
  // closed when it cannot be trusted (pg-pool also closes one whose socket broke).
  const transaction: Database['transaction'] = async (work, config) => {
    const client = await pool.connect();
    let untrusted: Error | undefined;
    try {
      const tx = new NodePgTransaction<typeof schema, typeof relational.schema>(dialect, new NodePgSession(client, dialect, relational), relational);
      await tx.execute(sql`begin`);
      try {
        if (config) await tx.setTransaction(config);
        const result = await work(tx);
        await tx.execute(sql`commit`);
        return result;
      } catch (error) {
        // Without an answer the server's transaction is still open: closing the connection rolls it back.
        if (!isQueryTimeout(error)) await tx.execute(sql`rollback`).catch((rollbackError: Error) => (untrusted = rollbackError));
        throw error;
      }
    } catch (error) {
      if (isQueryTimeout(error)) untrusted = error as Error;
      throw error;
    } finally {
      client.release(untrusted);
    }
  };
  return Object.assign(db, { transaction });
}

/** The handle a transaction's callback receives; repository steps of a caller's transaction take it first. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Where a repository method runs: on its own, or inside a caller's transaction. */
export type Executor = Database | Transaction;
