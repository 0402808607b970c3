import { Injectable, OnModuleInit } from '@nestjs/common';
import { Retention } from '../background';
import { IdempotencyRepository } from './idempotency.repository';

/** Idempotency's retention: keys whose 24 h ran out, with their sealed responses. */
@Injectable()
export class IdempotencyRetention implements OnModuleInit {
  constructor(
    private readonly keys: IdempotencyRepository,
    private readonly retention: Retention,
  ) {}

  onModuleInit() {
    this.retention.register({ name: 'expired idempotency keys', purge: (now) => this.keys.purgeExpired(now) });
  }
}
