import { randomBytes } from 'node:crypto';
import { drizzle, NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Client, Pool, PoolClient } from 'pg';
import * as schema from '../../src/db/schema';

/** What a factory writes through: a test's pg Client (`ctx.db`) or the app's pool. */
export type Db = Client | Pool | PoolClient;

/** Drizzle over the test's connection, with the app's schema and casing, so factories return typed rows. */
export function orm(db: Db): NodePgDatabase<typeof schema> {
  return drizzle({ client: db as Pool, schema, casing: 'snake_case' });
}

/** A short random suffix, so rows with unique columns (emails, SKUs, phones) never collide. */
export const unique = () => randomBytes(5).toString('hex');
