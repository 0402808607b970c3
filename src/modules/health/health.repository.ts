import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { DB_POOL } from '../../db/database';

const PING_TIMEOUT_MS = 2_000;

@Injectable()
export class HealthRepository {
  constructor(@Inject(DB_POOL) private readonly pool: Pool) {}

  /** One round trip to the database, bounded so a hung connection cannot hang the probe. */
  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('Database ping timed out'), { code: 'ETIMEDOUT' })), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.pool.query('SELECT 1'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
