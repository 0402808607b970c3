import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { TwoFactorRepository } from './two-factor.repository';

const PURGE_INTERVAL_MS = 3_600_000;
/** A challenge lives 5 minutes; past this, its row (spent, voided or never answered) has no use left. */
const RETENTION_MS = 86_400_000;

/** Hourly (and once at boot), drops login challenges that expired more than a day ago. */
@Injectable()
export class TwoFactorChallengesPurger implements OnModuleInit {
  private readonly logger = new Logger('TwoFactor');

  constructor(
    private readonly twoFactor: TwoFactorRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  onModuleInit() {
    this.background.every('two-factor challenge purge', PURGE_INTERVAL_MS, () => this.purge());
  }

  async purge(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - RETENTION_MS);
    const purged = await this.twoFactor.purgeChallengesExpiredBefore(cutoff);
    if (purged > 0) this.logger.log(`Purged ${purged} two-factor challenges expired before ${cutoff.toISOString()}`);
  }
}
