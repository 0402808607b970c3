import { Global, Module } from '@nestjs/common';
import { DevMailbox } from './dev-mailbox';
import { MailSender } from './mail-sender';
import { MailTransport } from './mail-transport';
import { MailService } from './mail.service';
import { MailRetention } from './mail.retention';
import { OutboundMailsRepository } from './outbound-mails.repository';

/** Global so that every module can queue a mail in its own transaction (MailService.queue). */
@Global()
@Module({
  providers: [MailService, OutboundMailsRepository, MailTransport, MailSender, MailRetention, DevMailbox],
  exports: [MailService, DevMailbox],
})
export class MailModule {}
