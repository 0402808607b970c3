import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/orders.module';
import { UsersModule } from '../users/users.module';
import { OutboxPurger } from './outbox.purger';
import { OutboxRepository } from './outbox.repository';
import { StripeWebhooksController } from './stripe-webhooks.controller';
import { StripeWebhooksService } from './stripe-webhooks.service';

@Module({
  imports: [OrdersModule, UsersModule],
  controllers: [StripeWebhooksController],
  providers: [StripeWebhooksService, OutboxRepository, OutboxPurger],
})
export class WebhooksModule {}
