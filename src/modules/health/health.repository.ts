import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { Pool, QueryConfig } from 'pg';
import { RATE_LIMIT_REDIS } from '../../common/throttling/throttling.module';
import { DB_POOL } from '../../db/database';

const PING_TIMEOUT_MS = 2_000;
/**
 * The driver's own deadline on the query: a probe that only stopped waiting would leave the query
 * on its connection, and every probe during a freeze would hold one more of the pool's connections.
 * Timed out, the connection is closed, not reused.
 */
const PING: QueryConfig & { query_timeout: number } = { text: 'SELECT 1', query_timeout: PING_TIMEOUT_MS };

@Injectable()
export class HealthRepository {
  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    @Inject(RATE_LIMIT_REDIS) private readonly redis: Redis | null,
  ) {}

  /** One round trip to the database: the wait for a connection and the query are both bounded. */
  async ping(): Promise<void> {
    await bounded(this.pool.query(PING), 'Database ping timed out');
  }

  /** Whether Redis is configured; without it the rate limits count in memory. */
  get hasRedis(): boolean {
    return this.redis !== null;
  }

  /** PING to the rate-limit Redis; fails at once while it is disconnected. */
  async pingRedis(): Promise<void> {
    if (this.redis) await bounded(this.redis.ping(), 'Redis ping timed out');
  }
}

async function bounded(work: Promise<unknown>, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(message), { code: 'ETIMEDOUT' })), PING_TIMEOUT_MS);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
