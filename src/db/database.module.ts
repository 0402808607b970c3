import { DynamicModule, Inject, Logger, Module, OnApplicationShutdown, Type } from '@nestjs/common';
import { Pool } from 'pg';
import { POOL_CLOSE_TIMEOUT_MS } from '../config/config';
import { createDatabase, createPool, DB, DB_POOL, PoolTimeouts } from './database';
import { TransactionRunner } from './transaction';

/**
 * What has to end before the pool closes: work still running in the background and the final
 * flushes (BackgroundTasks, named by app.module, since db/ is below common/).
 */
export abstract class BeforePoolClose {
  abstract shutdown(): Promise<void>;
}

export interface DatabaseModuleOptions {
  url: string;
  poolMax: number;
  timeouts: PoolTimeouts;
  beforeClose: Type<BeforePoolClose>;
}

@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    private readonly beforeClose: BeforePoolClose,
  ) {}

  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [
        {
          provide: DB_POOL,
          useFactory: () => createPool({ url: options.url, max: options.poolMax, timeouts: options.timeouts }),
        },
        { provide: DB, inject: [DB_POOL], useFactory: createDatabase },
        TransactionRunner,
        { provide: BeforePoolClose, useExisting: options.beforeClose },
      ],
      exports: [DB, DB_POOL, TransactionRunner],
    };
  }

  // Runs after the HTTP server has drained, so in-flight requests keep their connections; work
  // those requests left running in the background finishes first, or is abandoned at its deadline.
  // The pool closes whatever the drain says; a connection abandoned work still holds does not
  // keep it open past POOL_CLOSE_TIMEOUT_MS.
  async onApplicationShutdown() {
    try {
      await this.beforeClose.shutdown();
    } finally {
      await this.closePool();
    }
  }

  private async closePool(): Promise<void> {
    const logger = new Logger('Database');
    let timer: NodeJS.Timeout | undefined;
    const ended = this.pool.end().catch((error: Error) => logger.warn(`Closing pool: ${error.message}`));
    const outlived = new Promise<'outlived'>((resolve) => (timer = setTimeout(() => resolve('outlived'), POOL_CLOSE_TIMEOUT_MS)));
    if ((await Promise.race([ended, outlived])) === 'outlived') {
      logger.warn(`Closing pool: ${this.pool.totalCount - this.pool.idleCount} connection(s) still in use after ${POOL_CLOSE_TIMEOUT_MS} ms; left behind`);
    }
    clearTimeout(timer);
  }
}
