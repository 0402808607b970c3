import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { ProductsModule } from '../products/products.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { LicenseSigner } from './license-signer';
import { LicenseValidationRecorder } from './license-validation.recorder';
import { LicensesController } from './licenses.controller';
import { LicensesRepository } from './licenses.repository';
import { LicensesService } from './licenses.service';

@Module({
  imports: [ProductsModule, OutboxModule, WebhooksModule],
  controllers: [LicensesController],
  providers: [LicensesService, LicensesRepository, LicenseSigner, LicenseValidationRecorder],
  exports: [LicensesService, LicenseValidationRecorder],
})
export class LicensesModule {}
