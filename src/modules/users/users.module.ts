import { Module } from '@nestjs/common';

/** The users domain. Its controller, service, repository and schemas arrive with its issue. */
@Module({})
export class UsersModule {}
