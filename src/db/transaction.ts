import { Inject, Injectable } from '@nestjs/common';
import { Database, DB, Transaction } from './database';

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
