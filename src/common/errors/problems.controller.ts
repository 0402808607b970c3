import { Controller, Get, Param, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../auth/public.decorator';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { ProblemsService } from './problems.service';
import { ProblemSlugParamsDto, ProblemTypeResponseDto } from './problem.schemas';

@ApiTags('Problems')
@Controller('problems')
export class ProblemsController {
  constructor(private readonly problems: ProblemsService) {}

  @Get(':slug')
  @Public()
  @ApiOperation({ summary: 'Describe a problem type (the page behind each problem `type` URI)' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: ProblemTypeResponseDto })
  getProblemType(@Param() params: ProblemSlugParamsDto, @Req() request: FastifyRequest) {
    return this.problems.describe(params.slug, request);
  }
}
