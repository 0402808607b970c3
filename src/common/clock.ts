import { Global, Injectable, Module } from '@nestjs/common';

/** The time, injected, so tests can move it (token expiry, rotation grace periods). */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
