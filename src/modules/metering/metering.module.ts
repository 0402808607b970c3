import { Module } from '@nestjs/common';
import { Meter } from '../../common/metering/meter';
import { ThrottlingModule } from '../../common/throttling/throttling.module';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { OutboxModule } from '../outbox/outbox.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { UsersModule } from '../users/users.module';
import { AccessController } from './access.controller';
import { AccessService } from './access.service';
import { EntitlementsService } from './entitlements.service';
import { MeterService } from './meter.service';
import { MeteringRetention } from './metering.retention';
import { QuotaAlertsService } from './quota-alerts.service';
import { QuotaCountersRepository } from './quota-counters.repository';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

/** Quota counters and windows, entitlements, plan rate limits and geographic limits; exports the route guard's Meter (handed over by AuthCoreModule.forRoot). */
@Module({
  imports: [SubscriptionsModule, OutboxModule, UsersModule, ApiKeysModule, ThrottlingModule],
  controllers: [UsageController, AccessController],
  providers: [
    EntitlementsService,
    MeterService,
    QuotaAlertsService,
    QuotaCountersRepository,
    MeteringRetention,
    UsageService,
    AccessService,
    { provide: Meter, useExisting: MeterService },
  ],
  exports: [Meter],
})
export class MeteringModule {}
