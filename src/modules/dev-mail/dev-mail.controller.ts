import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../../common/auth/access.decorators';
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

  @Public()
  @Get('mail')
  @Header('content-type', 'text/html; charset=utf-8')
  page() {
    return devMailPage(this.mailbox.list());
  }

  @Public()
  @Get('mail.json')
  list() {
    return { mails: this.mailbox.list() };
  }
}
