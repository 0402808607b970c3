import { Module } from '@nestjs/common';

/** The products domain. Its controller, service, repository and schemas arrive with its issue. */
@Module({})
export class ProductsModule {}
