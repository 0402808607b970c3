import { Global, Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { UsersModule } from '../users/users.module';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookDeliveriesPurger } from './webhook-deliveries.purger';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { EventSubscribers } from '../outbox/event-subscribers';
import { WebhookSubscribers } from './webhook-subscribers';
import { WebhookAttempts } from './webhook-attempts';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';

/** Outbound webhooks: endpoints, deliveries and their dispatch; global only to hand the licenses module its EventSubscribers. */
@Global()
@Module({
  imports: [OutboxModule, UsersModule],
  controllers: [WebhookEndpointsController, WebhookDeliveriesController],
  providers: [
    WebhookEndpointsService,
    WebhookEndpointsRepository,
    WebhookDeliveriesRepository,
    WebhookDeliveriesService,
    WebhookDeliveriesPurger,
    WebhookAttempts,
    WebhookDispatcher,
    WebhookSubscribers,
    { provide: EventSubscribers, useExisting: WebhookSubscribers },
  ],
  exports: [WebhookEndpointsService, WebhookEndpointsRepository, EventSubscribers],
})
export class WebhooksModule {}
