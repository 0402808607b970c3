import { Module } from '@nestjs/common';

/** The auth domain. Its controller, service, repository and schemas arrive with its issue. */
@Module({})
export class AuthModule {}
