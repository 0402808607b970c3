import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { OutboxModule } from '../outbox/outbox.module';
import { UsersModule } from '../users/users.module';
import { PlansRepository } from './plans.repository';
import { PlansService } from './plans.service';
import { SubscriptionBillingService } from './subscription-billing.service';
import { SubscriptionChangesService } from './subscription-changes.service';
import { SubscriptionExpirySweeper } from './subscription-expiry.sweeper';
import { SubscriptionTermsService } from './subscription-terms.service';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsRepository } from './subscriptions.repository';
import { SubscriptionsService } from './subscriptions.service';

/**
 * Plans, each account's subscription and its history; billing's payment events call
 * SubscriptionBillingService, and metering reads which plan a user is on through SubscriptionTermsService.
 */
@Module({
  imports: [AccountsModule, OutboxModule, UsersModule],
  controllers: [SubscriptionsController],
  providers: [
    SubscriptionsService,
    PlansService,
    SubscriptionChangesService,
    SubscriptionBillingService,
    SubscriptionsRepository,
    PlansRepository,
    SubscriptionTermsService,
    SubscriptionExpirySweeper,
  ],
  exports: [SubscriptionChangesService, SubscriptionBillingService, SubscriptionsService, SubscriptionTermsService],
})
export class SubscriptionsModule {}
