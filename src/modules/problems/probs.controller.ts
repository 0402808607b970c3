import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Public } from '../../common/auth/access.decorators';
import { Language } from '../../common/i18n/language';
import { RequestLanguage } from '../../common/i18n/request-language.decorator';
import { ProblemsService } from './problems.service';
import { IntegrationProblemSlugParamsDto, IntegrationProblemTypeResponseDto } from '../../common/errors/problem.schemas';

/** The pages behind the integration format's `type` URIs, as /problems is for ours. */
@ApiTags('Problems')
@Controller('probs')
export class ProbsController {
  constructor(private readonly problems: ProblemsService) {}

  @Public()
  @Get(':slug')
  @ApiOperation({ summary: 'Describe an integration problem type (the page behind its `type` URI)' })
  @ZodResponse({ status: 200, type: IntegrationProblemTypeResponseDto })
  getIntegrationProblemType(@Param() params: IntegrationProblemSlugParamsDto, @RequestLanguage() lang: Language) {
    return this.problems.describeIntegration(params.slug, lang);
  }
}
