import { Injectable, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { LoginFailuresRepository } from './login-failures.repository';

const PRUNE_INTERVAL_MS = 3_600_000;

/** Hourly, removes failed-login counters whose window has ended, so the table stays small. */
@Injectable()
export class LoginFailuresPruner implements OnModuleInit {
  constructor(
    private readonly failures: LoginFailuresRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  onModuleInit() {
    this.background.every('login failure pruning', PRUNE_INTERVAL_MS, () => this.prune(), { atStart: false });
  }

  async prune(): Promise<void> {
    await this.failures.pruneEnded(this.clock.now());
  }
}
