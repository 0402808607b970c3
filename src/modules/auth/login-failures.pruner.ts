import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { BackgroundTasks } from '../../common/background';
import { Clock } from '../../common/clock';
import { LoginFailuresRepository } from './login-failures.repository';

const PRUNE_INTERVAL_MS = 3_600_000;

/** Hourly, removes failed-login counters whose window has ended, so the table stays small. */
@Injectable()
export class LoginFailuresPruner implements OnModuleInit, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly failures: LoginFailuresRepository,
    private readonly background: BackgroundTasks,
    private readonly clock: Clock,
  ) {}

  onModuleInit() {
    this.timer = setInterval(() => this.background.run('login failure pruning', () => this.prune()), PRUNE_INTERVAL_MS).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async prune(): Promise<void> {
    await this.failures.pruneEnded(this.clock.now());
  }
}
