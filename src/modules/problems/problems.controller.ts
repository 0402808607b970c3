import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../../common/auth/access.decorators';
import { Language } from '../../common/i18n/language';
import { RequestLanguage } from '../../common/i18n/request-language.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { ProblemsService } from './problems.service';
import { ProblemSlugParamsDto, ProblemTypeResponseDto } from '../../common/errors/problem.schemas';

@ApiTags('Problems')
@Controller('problems')
export class ProblemsController {
  constructor(private readonly problems: ProblemsService) {}

  @Public()
  @Get(':slug')
  @ApiOperation({ summary: 'Describe a problem type (the page behind each problem `type` URI)' })
  @ApiProblems('NOT_FOUND')
  @ZodResponse({ status: 200, type: ProblemTypeResponseDto })
  getProblemType(@Param() params: ProblemSlugParamsDto, @RequestLanguage() lang: Language) {
    return this.problems.describe(params.slug, lang);
  }
}
