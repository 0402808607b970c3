import { Module } from '@nestjs/common';

/** The licenses domain. Its controller, service, repository and schemas arrive with its issue. */
@Module({})
export class LicensesModule {}
