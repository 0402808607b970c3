import { Module } from '@nestjs/common';
import { ThrottlingModule } from '../../common/throttling/throttling.module';
import { HealthController } from './health.controller';
import { HealthRepository } from './health.repository';
import { HealthService } from './health.service';

@Module({
  imports: [ThrottlingModule],
  controllers: [HealthController],
  providers: [HealthService, HealthRepository],
})
export class HealthModule {}
