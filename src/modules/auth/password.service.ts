import { randomBytes, randomInt } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import argon2 from 'argon2';
import { ConcurrencyGate, GatePlace } from '../../common/concurrency-gate';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig, InjectConfig } from '../../config/config';

/** OWASP's argon2id settings: 19 MiB, 2 passes, 1 lane (about 30 ms here, against 130 ms for the library default). */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * When a refused caller may try again: 2 to 4 s, drawn for each. The queue drains in about a
 * second, but a cap that is full is under a flood that lasts longer; spread out, the refused do
 * not all come back at once, and each refusal, cheap as it is, is not repeated every second.
 */
const retryAfterSeconds = () => 2 + randomInt(3);

/**
 * Each argon2 computation pins a core for tens of milliseconds (on libuv's thread pool). At most
 * PASSWORD_HASH_CONCURRENCY run at once, so a login flood cannot take the CPU the event loop and
 * every other route need, and at most PASSWORD_HASH_QUEUE more callers wait their turn; the next one
 * is refused at once, before any work (see admit()). The refusal is a 429 RATE_LIMITED, the answer
 * every login client already handles: the cap is a rate limit on the server's hashing, shared by
 * all callers. It is also cheap to give: a 503 is logged as a server error with its stack, which a
 * flood of thousands turns into the very load the cap keeps off.
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash = '';
  private readonly gate: ConcurrencyGate;

  constructor(@InjectConfig() config: AppConfig) {
    const { concurrency, queue } = config.auth.passwordHashing;
    this.gate = new ConcurrencyGate(concurrency, concurrency + queue);
  }

  /** A hash of nothing in particular, so a login for an unknown email costs one verification too. */
  async onModuleInit() {
    this.dummyHash = await argon2.hash(randomBytes(16).toString('hex'), ARGON2_OPTIONS);
  }

  /**
   * A place for one hash or verification, taken before the work that leads to it, so a caller
   * refused for load costs no query and leaves no trace (a login is not counted as an attempt).
   */
  admit(): GatePlace {
    const place = this.gate.admit();
    if (!place) throw new DomainError('RATE_LIMITED', { params: { retryAfter: retryAfterSeconds() } });
    return place;
  }

  async hash(password: string, place?: GatePlace): Promise<string> {
    return (place ?? this.admit()).run(() => argon2.hash(password, ARGON2_OPTIONS));
  }

  /**
   * Verifies against `hash`, or against the dummy hash when there is none (an unknown email, or a
   * user who signs in only through an OIDC provider), taking the same time.
   */
  async verify(hash: string | null | undefined, password: string, place?: GatePlace): Promise<boolean> {
    const matches = await (place ?? this.admit()).run(() => argon2.verify(hash ?? this.dummyHash, password));
    return typeof hash === 'string' && matches;
  }
}
