import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../../common/auth/public.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { SkipRateLimit } from '../../common/throttling/rate-limit.decorator';
import { HealthService } from './health.service';
import { LivenessResponseDto, ReadinessResponseDto } from './health.schemas';

@ApiTags('Health')
@Controller('health')
@SkipRateLimit()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process is up (does not touch the database)' })
  @ZodResponse({ status: 200, type: LivenessResponseDto })
  live() {
    return this.health.live();
  }

  @Get('ready')
  @Public()
  @ApiOperation({ summary: 'Readiness: the database answers, and Redis too when REDIS_URL is set' })
  @ApiProblems('SERVICE_UNAVAILABLE')
  @ZodResponse({ status: 200, type: ReadinessResponseDto })
  ready() {
    return this.health.ready();
  }
}
