import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../../common/auth/public.decorator';
import { DevMailbox } from '../../common/mail/dev-mailbox';
import { devMailPage } from './dev-mail.page';

/**
 * Mounted only outside production (AppModule), so in production these paths do not exist. Not in
 * the OpenAPI document, which must not depend on configuration.
 */
@ApiExcludeController()
@Controller('dev')
export class DevMailController {
  constructor(private readonly mailbox: DevMailbox) {}

  @Get('mail')
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  page() {
    return devMailPage(this.mailbox.list());
  }

  @Get('mail.json')
  @Public()
  list() {
    return { mails: this.mailbox.list() };
  }
}
