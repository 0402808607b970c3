import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { assertAllowedLink, linkWith } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { AuthService } from '../auth/auth.service';
import { TokenPair } from '../auth/tokens.service';
import { USER_LIMITS } from '../../db/schema/users';
import { emailSchema, languageSchema, localeSchema, timezoneSchema } from '../users/users.schemas';
import { NewUser, UserRow, UsersRepository } from '../users/users.repository';
import { OidcClaims, OidcClients } from './oidc-clients';
import { OidcSignInState } from './oidc-state';
import { UserIdentitiesRepository } from './user-identities.repository';

/**
 * Where /callback sends the browser: with the login cookies' tokens; with a two-factor challenge
 * (`?requiredAuthenticatorType=TOTP&challenge=…`, no cookies); or with `?error=<code>`.
 */
export type CallbackOutcome = { location: string; tokens?: TokenPair };

@Injectable()
export class OidcService {
  constructor(
    private readonly clients: OidcClients,
    private readonly state: OidcSignInState,
    private readonly transactions: TransactionRunner,
    private readonly users: UsersRepository,
    private readonly identities: UserIdentitiesRepository,
    private readonly auth: AuthService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The provider's authorization URL, and the sealed cookie that remembers this sign-in. */
  async authorize(providerName: string, redirect: string): Promise<{ location: string; cookie: string; cookiePath: string }> {
    const provider = this.clients.provider(providerName);
    assertAllowedLink('redirect', redirect, this.config.allowedLinkOrigins);
    const { url, checks } = await this.clients.authorizationUrl(provider);
    return { location: url, cookie: this.state.seal(provider.name, redirect, checks), cookiePath: callbackPath(provider.name) };
  }

  /**
   * Without a valid sign-in cookie there is no trusted redirect: OIDC_STATE_INVALID as a problem.
   * With one, every refusal goes back to the redirect as `?error=<code>`, and nothing is written.
   */
  async callback(providerName: string, search: string, sealed: string | undefined): Promise<CallbackOutcome> {
    const provider = this.clients.provider(providerName);
    const started = this.state.open(provider.name, sealed);
    try {
      const claims = await this.clients.claims(provider, search, started);
      const user = await this.transactions.run((tx) => this.userFor(tx, provider.name, claims));
      // As after a correct password: a session, or a second factor still to pass.
      const signIn = await this.auth.finishSignIn(user);
      if (signIn.tokens) return { location: started.redirect, tokens: signIn.tokens };
      const { requiredAuthenticatorType, challenge } = signIn.answer;
      return {
        location: linkWith(started.redirect, { requiredAuthenticatorType, challenge: challenge.token, challengeExpirationDate: challenge.expirationDate }),
      };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return { location: linkWith(started.redirect, { error: (error as DomainError).code }) };
    }
  }

  /**
   * The user this identity signs in: the one already linked to `(provider, sub)`; else the user
   * with this email, linked now; else a new ACTIVE user. Matching or creating by email needs
   * `email_verified`, or anyone able to claim an address at the provider could take the account.
   */
  private async userFor(tx: Transaction, provider: string, claims: OidcClaims): Promise<UserRow> {
    const known = await this.identities.findBySubject(tx, provider, claims.subject);
    if (known) {
      const user = await this.users.lockById(tx, known.userId);
      if (!user) throw new DomainError('OIDC_SIGN_IN_REJECTED');
      return assertNotSuspended(user);
    }
    const email = emailSchema.safeParse(claims.email);
    if (!email.success || !claims.emailVerified) throw new DomainError('OIDC_EMAIL_UNVERIFIED');
    const existing = await this.users.findByEmail(email.data);
    let user: UserRow;
    if (existing) {
      user = assertNotSuspended(existing);
    } else {
      const created = await this.users.create(newUserFrom(email.data, claims, this.clock.now()), tx);
      // Registered by someone else between the lookup and the insert: try again to link it.
      if (created.outcome === 'email-taken') throw new DomainError('CONFLICT');
      user = created.user;
    }
    const linked = await this.identities.insert(tx, { userId: user.id, provider, subject: claims.subject, email: email.data });
    // Two first sign-ins of one person at once: the other one linked it; this one writes nothing.
    if (linked.outcome === 'already-linked') throw new DomainError('CONFLICT');
    return user;
  }
}

export const callbackPath = (provider: string) => `/v1/auth/oidc/${provider}/callback`;

function assertNotSuspended(user: UserRow): UserRow {
  if (user.status === 'SUSPENDED') throw new DomainError('ACCOUNT_SUSPENDED');
  return user;
}

/** A user who signs in only through the provider: ACTIVE, email verified by it, no password. */
function newUserFrom(email: string, claims: OidcClaims, now: Date): NewUser {
  const locale = localeSchema.safeParse(claims.locale);
  const language = languageSchema.safeParse(claims.locale?.split('-')[0]?.toLowerCase());
  const timezone = timezoneSchema.safeParse(claims.zoneinfo);
  const limit = (value: string) => value.slice(0, USER_LIMITS.name);
  return {
    email,
    passwordHash: null,
    firstName: limit(claims.givenName ?? claims.name ?? email.split('@')[0]!),
    lastName: limit(claims.familyName ?? ''),
    language: language.success ? language.data : 'en',
    locale: locale.success ? locale.data : 'en',
    timezone: timezone.success ? timezone.data : 'UTC',
    status: 'ACTIVE',
    emailVerifiedAt: now,
  };
}
