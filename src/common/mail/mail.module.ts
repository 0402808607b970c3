import { Global, Module } from '@nestjs/common';
import { MailSender } from './mail-sender';
import { MailTransport } from './mail-transport';
import { MailService } from './mail.service';
import { OutboundMailsPurger } from './outbound-mails.purger';
import { OutboundMailsRepository } from './outbound-mails.repository';

/** Global so that every module can queue a mail in its own transaction (MailService.queue). */
@Global()
@Module({
  providers: [MailService, OutboundMailsRepository, MailTransport, MailSender, OutboundMailsPurger],
  exports: [MailService],
})
export class MailModule {}
