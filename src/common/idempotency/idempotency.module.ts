import { Global, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../background';
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

/** Global: the route guard, in the common auth module, claims keys through IdempotencyService. */
@Global()
@Module({
  providers: [IdempotencyRepository, IdempotencyService, IdempotencyPurger],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
