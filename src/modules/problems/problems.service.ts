import { Injectable } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/config';
import { I18nService } from '../../common/i18n/i18n.service';
import { Language } from '../../common/i18n/language';
import { DomainError } from '../../common/errors/domain-error';
import { codeForSlug, ERROR_CATALOG, problemSlug } from '../../common/errors/error-catalog';
import { integrationProblemType } from '../../common/errors/integration-problem-writer';
import { INTEGRATION_PROBLEM_TYPES, IntegrationProblemSlug } from '../../common/errors/problem.schemas';

@Injectable()
export class ProblemsService {
  constructor(
    private readonly i18n: I18nService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  describe(slug: string, lang: Language) {
    const code = codeForSlug(slug);
    if (!code) throw new DomainError('NOT_FOUND');
    return {
      type: `${this.config.publicBaseUrl}/problems/${problemSlug(code)}`,
      code,
      status: ERROR_CATALOG[code].status,
      title: this.i18n.translate(`problems:${code}.title`, lang),
      description: this.i18n.translate(`problems:${code}.description`, lang),
    };
  }

  /** The page behind an integration-format `type` URI; titles are the docs' own, in English. */
  describeIntegration(slug: IntegrationProblemSlug, lang: Language) {
    const { title, status } = INTEGRATION_PROBLEM_TYPES[slug];
    return {
      type: integrationProblemType(this.config.publicBaseUrl, slug),
      status,
      title,
      description: this.i18n.translate(`integration:probs.${slug}`, lang),
    };
  }
}
