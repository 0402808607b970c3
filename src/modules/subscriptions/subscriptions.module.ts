import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { OutboxModule } from '../outbox/outbox.module';
import { PlansRepository } from './plans.repository';
import { PlansService } from './plans.service';
import { SubscriptionChangesService } from './subscription-changes.service';
import { SubscriptionExpirySweeper } from './subscription-expiry.sweeper';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsRepository } from './subscriptions.repository';
import { SubscriptionsService } from './subscriptions.service';

/** Plans, each account's subscription and its history; Stripe billing builds on SubscriptionChangesService. */
@Module({
  imports: [AccountsModule, OutboxModule],
  controllers: [SubscriptionsController],
  providers: [SubscriptionsService, PlansService, SubscriptionChangesService, SubscriptionsRepository, PlansRepository, SubscriptionExpirySweeper],
  exports: [SubscriptionChangesService, SubscriptionsRepository, PlansRepository],
})
export class SubscriptionsModule {}
