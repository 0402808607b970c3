import { Module } from '@nestjs/common';
import { OutboxRetention } from './outbox.retention';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';

/**
 * Other modules write the outbox through OutboxService. OutboxRepository is still exported for
 * metering's quota alerts only, until metering's move (issue 23) lets it switch to the service.
 */
@Module({
  providers: [OutboxRepository, OutboxService, OutboxRetention],
  exports: [OutboxService, OutboxRepository],
})
export class OutboxModule {}
