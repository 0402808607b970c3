import { Module } from '@nestjs/common';
import { OutboxRetention } from './outbox.retention';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';

/** Other modules write the outbox through OutboxService only; the repository is the module's own. */
@Module({
  providers: [OutboxRepository, OutboxService, OutboxRetention],
  exports: [OutboxService],
})
export class OutboxModule {}
