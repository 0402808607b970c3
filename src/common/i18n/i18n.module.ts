import { Global, Module } from '@nestjs/common';
import { I18nService } from './i18n.service';

/** Global: error messages, mails and SMS in every module are translated through the one service. */
@Global()
@Module({ providers: [I18nService], exports: [I18nService] })
export class I18nModule {}
