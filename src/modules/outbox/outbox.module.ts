import { Module } from '@nestjs/common';
import { OutboxPurger } from './outbox.purger';
import { OutboxRepository } from './outbox.repository';

@Module({
  providers: [OutboxRepository, OutboxPurger],
  exports: [OutboxRepository],
})
export class OutboxModule {}
