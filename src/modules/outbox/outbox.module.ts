import { Module } from '@nestjs/common';
import { OutboxRetention } from './outbox.retention';
import { OutboxRepository } from './outbox.repository';

@Module({
  providers: [OutboxRepository, OutboxRetention],
  exports: [OutboxRepository],
})
export class OutboxModule {}
