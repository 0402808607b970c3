import { Module } from '@nestjs/common';
import { LicensesModule } from '../licenses/licenses.module';
import { OrdersModule } from '../orders/orders.module';
import { OutboxModule } from '../outbox/outbox.module';
import { ProductsModule } from '../products/products.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { UsersModule } from '../users/users.module';
import { StripeEventsRepository } from './stripe-events.repository';
import { StripeWebhooksController } from './stripe-webhooks.controller';
import { StripeWebhooksService } from './stripe-webhooks.service';

/**
 * Inbound Stripe events: they fulfil orders, issue licenses and bill subscriptions. A module of its
 * own so that LicensesModule can import WebhooksModule (for EventSubscribers) without a cycle; it
 * moves to src/modules/billing/ with the rest of the Stripe code (issue 23).
 */
@Module({
  imports: [OrdersModule, LicensesModule, ProductsModule, OutboxModule, UsersModule, SubscriptionsModule],
  controllers: [StripeWebhooksController],
  providers: [StripeWebhooksService, StripeEventsRepository],
})
export class StripeWebhooksModule {}
