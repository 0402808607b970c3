import { Module } from '@nestjs/common';

/** The accounts domain. Its controller, service, repository and schemas arrive with its issue. */
@Module({})
export class AccountsModule {}
