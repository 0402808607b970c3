import { Global, Injectable, Module } from '@nestjs/common';

/** The time, injected, so tests can move it (token expiry, rotation grace periods, cache ages). */
@Injectable()
export class Clock {
  now(): Date {
    return new Date(this.nowMs());
  }

  /** `now()` in epoch milliseconds, without a Date: what hot paths (cache hits) read. */
  nowMs(): number {
    return Date.now();
  }
}

@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
