import { Module } from '@nestjs/common';
import { DevMailController } from './dev-mail.controller';

/** GET /dev/mail and /dev/mail.json: the mails kept without SMTP_URL. Outside production only. */
@Module({ controllers: [DevMailController] })
export class DevMailModule {}
