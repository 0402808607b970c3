import { Global, Module } from '@nestjs/common';
import { LicensesModule } from '../licenses/licenses.module';
import { OrdersModule } from '../orders/orders.module';
import { OutboxModule } from '../outbox/outbox.module';
import { ProductsModule } from '../products/products.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { UsersModule } from '../users/users.module';
import { StripeEventsRepository } from './stripe-events.repository';
import { StripeWebhooksController } from './stripe-webhooks.controller';
import { StripeWebhooksService } from './stripe-webhooks.service';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { EventSubscribers } from '../outbox/event-subscribers';
import { WebhookSubscribers } from './webhook-subscribers';
import { WebhookAttempts } from './webhook-attempts';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhooksRetention } from './webhooks.retention';

/** Inbound Stripe events and outbound webhooks; global only to hand the licenses module its EventSubscribers. */
@Global()
@Module({
  imports: [OrdersModule, LicensesModule, ProductsModule, OutboxModule, UsersModule, SubscriptionsModule],
  controllers: [StripeWebhooksController, WebhookEndpointsController, WebhookDeliveriesController],
  providers: [
    StripeWebhooksService,
    StripeEventsRepository,
    WebhookEndpointsService,
    WebhookEndpointsRepository,
    WebhookDeliveriesRepository,
    WebhookDeliveriesService,
    WebhooksRetention,
    WebhookAttempts,
    WebhookDispatcher,
    WebhookSubscribers,
    { provide: EventSubscribers, useExisting: WebhookSubscribers },
  ],
  exports: [WebhookEndpointsService, WebhookEndpointsRepository, EventSubscribers],
})
export class WebhooksModule {}
