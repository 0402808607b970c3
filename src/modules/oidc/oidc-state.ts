import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Clock } from '../../common/clock';
import { SecretBox } from '../../common/crypto/secret-box';
import { DomainError } from '../../common/errors/domain-error';
import type { SignInChecks } from './oidc-clients';

/** How long a started sign-in may take at the provider. */
export const SIGN_IN_TTL_SECONDS = 600;

const startedSchema = z.object({
  provider: z.string(),
  redirect: z.string(),
  state: z.string(),
  nonce: z.string(),
  codeVerifier: z.string(),
  expiresAt: z.number(),
});

export type StartedSignIn = z.infer<typeof startedSchema>;

/**
 * A sign-in between /authorize and /callback lives only in the browser, in a cookie sealed by the
 * SecretBox (AES-GCM: nobody can read the PKCE verifier, nor change or forge any field). The
 * expiry is inside the seal, so keeping the cookie longer than its Max-Age does not help.
 */
@Injectable()
export class OidcSignInState {
  constructor(
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  seal(provider: string, redirect: string, checks: SignInChecks): string {
    const started: StartedSignIn = { provider, redirect, ...checks, expiresAt: this.clock.now().getTime() + SIGN_IN_TTL_SECONDS * 1000 };
    return this.box.seal(JSON.stringify(started));
  }

  /** The sign-in the cookie holds for this provider; OIDC_STATE_INVALID when missing, altered, expired or another provider's. */
  open(provider: string, sealed: string | undefined): StartedSignIn {
    const started = sealed ? this.parse(sealed) : undefined;
    if (!started || started.provider !== provider || started.expiresAt <= this.clock.now().getTime()) throw new DomainError('OIDC_STATE_INVALID');
    return started;
  }

  private parse(sealed: string): StartedSignIn | undefined {
    try {
      return startedSchema.parse(JSON.parse(this.box.open(sealed)));
    } catch {
      return undefined;
    }
  }
}
