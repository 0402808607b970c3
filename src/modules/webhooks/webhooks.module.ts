import { Module } from '@nestjs/common';

/** The webhooks domain. Its controller, service, repository and schemas arrive with its issue. */
@Module({})
export class WebhooksModule {}
