import { randomBytes } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import argon2 from 'argon2';

/** OWASP's argon2id settings: 19 MiB, 2 passes, 1 lane (about 30 ms here, against 130 ms for the library default). */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash = '';

  /** A hash of nothing in particular, so a login for an unknown email costs one verification too. */
  async onModuleInit() {
    this.dummyHash = await argon2.hash(randomBytes(16).toString('hex'), ARGON2_OPTIONS);
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, ARGON2_OPTIONS);
  }

  /**
   * Verifies against `hash`, or against the dummy hash when there is none (an unknown email, or a
   * user who signs in only through an OIDC provider), taking the same time.
   */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    const matches = await argon2.verify(hash ?? this.dummyHash, password);
    return typeof hash === 'string' && matches;
  }
}
