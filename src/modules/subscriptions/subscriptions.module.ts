import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { OutboxModule } from '../outbox/outbox.module';
import { UsersModule } from '../users/users.module';
import { PlansRepository } from './plans.repository';
import { QuotaCountersRepository } from './quota-counters.repository';
import { PlansService } from './plans.service';
import { SubscriptionBillingService } from './subscription-billing.service';
import { SubscriptionChangesService } from './subscription-changes.service';
import { SubscriptionExpirySweeper } from './subscription-expiry.sweeper';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsRepository } from './subscriptions.repository';
import { SubscriptionsRetention } from './subscriptions.retention';
import { SubscriptionsService } from './subscriptions.service';

/** Plans, each account's subscription and its history; billing's payment events call SubscriptionBillingService. */
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
    SubscriptionExpirySweeper,
    QuotaCountersRepository,
    SubscriptionsRetention,
  ],
  exports: [SubscriptionChangesService, SubscriptionBillingService, SubscriptionsService, SubscriptionsRepository, PlansRepository, QuotaCountersRepository],
})
export class SubscriptionsModule {}
