import { Global, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../background';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';

const PURGE_INTERVAL_MS = 3_600_000;

/** Hourly (and once at boot), drops keys whose 24 h ran out, with their sealed responses. */
@Injectable()
export class IdempotencyPurger implements OnModuleInit {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly background: BackgroundTasks,
  ) {}

  onModuleInit() {
    this.background.every('idempotency keys purge', PURGE_INTERVAL_MS, () => this.purge());
  }

  async purge(): Promise<void> {
    const purged = await this.idempotency.purgeExpired();
    if (purged > 0) this.logger.log(`Purged ${purged} expired idempotency keys`);
  }
}

/** Global so that @Idempotent() routes in every module resolve the interceptor's service. */
@Global()
@Module({
  providers: [IdempotencyRepository, IdempotencyService, IdempotencyInterceptor, IdempotencyPurger],
  exports: [IdempotencyService, IdempotencyInterceptor],
})
export class IdempotencyModule {}
