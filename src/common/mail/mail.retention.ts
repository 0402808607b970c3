import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/config';
import { daysBefore, Retention } from '../background';
import { OutboundMailsRepository } from './outbound-mails.repository';

/** Mail's retention: mails SENT or FAILED more than MAIL_RETENTION_DAYS ago (pending ones never go). */
@Injectable()
export class MailRetention implements OnModuleInit {
  constructor(
    private readonly mails: OutboundMailsRepository,
    private readonly retention: Retention,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.retention.register({
      name: 'mails sent or given up over MAIL_RETENTION_DAYS ago',
      purge: (now) => this.mails.purgeCompletedBefore(daysBefore(now, this.config.mail.retentionDays)),
    });
  }
}
