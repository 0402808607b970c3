import { Global, Module } from '@nestjs/common';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyRetention } from './idempotency.retention';
import { IdempotencyService } from './idempotency.service';

/** Global: the route guard, in the common auth module, claims keys through IdempotencyService. */
@Global()
@Module({
  providers: [IdempotencyRepository, IdempotencyService, IdempotencyRetention],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
