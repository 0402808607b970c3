import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../../common/auth/access.decorators';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { HealthService } from './health.service';
import { LivenessResponseDto, ReadinessResponseDto } from './health.schemas';

@ApiTags('Health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Public({ skipRateLimit: true })
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up (does not touch the database)' })
  @ZodResponse({ status: 200, type: LivenessResponseDto })
  live() {
    return this.health.live();
  }

  @Public({ skipRateLimit: true })
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers, and Redis too when REDIS_URL is set' })
  @ApiProblems('SERVICE_UNAVAILABLE')
  @ZodResponse({ status: 200, type: ReadinessResponseDto })
  ready() {
    return this.health.ready();
  }
}
