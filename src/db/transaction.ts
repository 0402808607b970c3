import { Inject, Injectable } from '@nestjs/common';
import { Database, DB } from './database';

export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Where a repository method that may join a caller's transaction runs: the pool, or that transaction. */
export type Executor = Database | Transaction;

/**
 * Opens the transaction of a unit of work that spans several repositories; the service passes
 * `tx` to each of them, so every table is still written by its own repository.
 */
@Injectable()
export class TransactionRunner {
  constructor(@Inject(DB) private readonly db: Database) {}

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }
}
