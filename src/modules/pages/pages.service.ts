import { Injectable } from '@nestjs/common';
import { I18nService } from '../../common/i18n/i18n.service';
import { isLanguage, Language, languageFromHeader } from '../../common/i18n/language';
import { AppConfig, InjectConfig } from '../../config/config';
import { PageKind, renderPage } from './pages.html';

@Injectable()
export class PagesService {
  /** PUBLIC_BASE_URL's path ('' at the root), so the pages post to the API behind a path prefix too. */
  private readonly basePath: string;
  /** Each page in each language is rendered once: nothing in it depends on the request. */
  private readonly rendered = new Map<string, string>();

  constructor(
    private readonly i18n: I18nService,
    @InjectConfig() config: AppConfig,
  ) {
    this.basePath = new URL(config.publicBaseUrl).pathname.replace(/\/+$/, '');
  }

  /** The page in `?lang=` when it names one of our languages, else the best for Accept-Language. */
  page(kind: PageKind, queryLang: string | undefined, acceptLanguage: string | string[] | undefined): string {
    const lang: Language = isLanguage(queryLang) ? queryLang : languageFromHeader(acceptLanguage);
    const id = `${kind}:${lang}`;
    let html = this.rendered.get(id);
    if (html === undefined) {
      html = renderPage(kind, lang, this.basePath, (key) => this.i18n.translate(`pages:${key}`, lang));
      this.rendered.set(id, html);
    }
    return html;
  }
}
