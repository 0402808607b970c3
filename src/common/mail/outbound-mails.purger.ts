import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/config';
import { BackgroundTasks } from '../background';
import { Clock } from '../clock';
import { OutboundMailsRepository } from './outbound-mails.repository';

const PURGE_INTERVAL_MS = 3_600_000;

/** Hourly (and once at boot, for processes that live less than an hour), drops mails SENT or FAILED more than MAIL_RETENTION_DAYS ago. */
@Injectable()
export class OutboundMailsPurger implements OnModuleInit {
  private readonly logger = new Logger('Mail');

  constructor(
    private readonly mails: OutboundMailsRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit() {
    this.background.every('outbound mails purge', PURGE_INTERVAL_MS, () => this.purge());
  }

  async purge(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.mail.retentionDays * 86_400_000);
    const purged = await this.mails.purgeCompletedBefore(cutoff);
    if (purged > 0) this.logger.log(`Purged ${purged} mails sent or given up before ${cutoff.toISOString()}`);
  }
}
