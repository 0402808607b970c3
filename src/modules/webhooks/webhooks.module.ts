import { Module } from '@nestjs/common';
import { EventSubscribers } from '../outbox/outbox.service';
import { OutboxModule } from '../outbox/outbox.module';
import { UsersModule } from '../users/users.module';
import { WebhookAttempts } from './webhook-attempts';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookSubscribers } from './webhook-subscribers';
import { WebhooksRetention } from './webhooks.retention';

/** Outbound webhooks: endpoints, deliveries and their dispatch. Exports EventSubscribers, which licenses asks before appending `license.validated`. */
@Module({
  imports: [OutboxModule, UsersModule],
  controllers: [WebhookEndpointsController, WebhookDeliveriesController],
  providers: [
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
  exports: [EventSubscribers],
})
export class WebhooksModule {}
