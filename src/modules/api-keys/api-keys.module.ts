import { Module } from '@nestjs/common';

/** The api-keys domain. Its controller, service, repository and schemas arrive with its issue. */
@Module({})
export class ApiKeysModule {}
