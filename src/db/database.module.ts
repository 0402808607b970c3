import { DynamicModule, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { BackgroundTasks } from '../common/background';
import { createDatabase, createPool, DB, DB_POOL, PoolTimeouts } from './database';
import { TransactionRunner } from './transaction';

export interface DatabaseModuleOptions {
  url: string;
  poolMax: number;
  timeouts: PoolTimeouts;
}

@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(DB_POOL) private readonly pool: Pool,
    private readonly background: BackgroundTasks,
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
      ],
      exports: [DB, DB_POOL, TransactionRunner],
    };
  }

  // Runs after the HTTP server has drained, so in-flight requests keep their connections; work
  // those requests left running in the background finishes first.
  async onApplicationShutdown() {
    await this.background.drain();
    await this.pool.end().catch((error: Error) => new Logger('Database').warn(`Closing pool: ${error.message}`));
  }
}
