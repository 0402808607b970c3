import { Module } from '@nestjs/common';

/** The subscriptions domain. Its controller, service, repository and schemas arrive with its issue. */
@Module({})
export class SubscriptionsModule {}
