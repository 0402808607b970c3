import { Controller, Get, Header, Headers, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../../common/auth/access.decorators';
import { HtmlPage } from '../../common/http/security-headers';
import { LinkPageQueryDto } from './pages.schemas';
import { PAGE_SCRIPT_HASH } from './pages.script';
import { PagesService } from './pages.service';

/**
 * Its own policy instead of the API's (which allows nothing): the page's one inline script, by
 * hash, and requests to its own origin. Nothing else loads, and nothing may frame it.
 */
const PAGE_POLICY = `default-src 'none'; script-src ${PAGE_SCRIPT_HASH}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/**
 * The default pages that mailed links open (ACTIVATION_PAGE_URL, PASSWORD_RESET_PAGE_URL). They are
 * HTML for people, not API operations, so they are left out of the OpenAPI document.
 */
@ApiExcludeController()
@Controller()
export class PagesController {
  constructor(private readonly pages: PagesService) {}

  @Public()
  @HtmlPage()
  @Get('activate')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_POLICY)
  @Header('cache-control', 'no-store')
  @Header('vary', 'accept-language')
  activationPage(@Query() query: LinkPageQueryDto, @Headers('accept-language') acceptLanguage?: string) {
    return this.pages.page('activate', query.lang, acceptLanguage);
  }

  @Public()
  @HtmlPage()
  @Get('reset-password')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_POLICY)
  @Header('cache-control', 'no-store')
  @Header('vary', 'accept-language')
  passwordResetPage(@Query() query: LinkPageQueryDto, @Headers('accept-language') acceptLanguage?: string) {
    return this.pages.page('resetPassword', query.lang, acceptLanguage);
  }
}
