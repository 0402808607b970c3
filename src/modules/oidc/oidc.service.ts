import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { DomainEvents } from '../../common/events';
import { MailService } from '../../common/mail/mail.service';
import { assertAllowedLink, linkWith } from '../../common/validation/links';
import { AppConfig, InjectConfig } from '../../config/config';
import { Transaction } from '../../db/database';
import { TransactionRunner } from '../../db/transaction';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuthService } from '../auth/auth.service';
import { TokenPair } from '../auth/tokens.service';
import { UserAccessService } from '../auth/user-access.service';
import { USER_LIMITS } from '../../db/schema/users';
import { emailSchema, languageSchema, localeSchema, timezoneSchema } from '../users/users.schemas';
import { NewUser, UserRow, UsersService } from '../users/users.service';
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
  private readonly logger = new Logger('Oidc');

  constructor(
    private readonly clients: OidcClients,
    private readonly state: OidcSignInState,
    private readonly transactions: TransactionRunner,
    private readonly users: UsersService,
    private readonly identities: UserIdentitiesRepository,
    private readonly access: UserAccessService,
    private readonly apiKeys: ApiKeysService,
    private readonly auth: AuthService,
    private readonly mail: MailService,
    private readonly events: DomainEvents,
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
      const found = await this.transactions.run(async (tx) => {
        const signedIn = await this.userFor(tx, provider.name, claims);
        const { user, linked } = signedIn;
        // A new way into an account that existed: its owner hears of it, with the link's commit.
        if (linked) await this.mail.queue(tx, user, 'identityLinked', { name: this.users.nameOf(user), provider: provider.name, email: linked.email });
        return signedIn;
      });
      this.afterCommit(found, provider.name);
      // As after a correct password: a session, or a second factor still to pass.
      const signIn = await this.auth.finishSignIn(found.user);
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
   * A user is linked as it is only when its own email is verified. An unverified row (registered,
   * never activated: perhaps by someone else, with a password of their own) is reclaimed instead.
   */
  private async userFor(tx: Transaction, provider: string, claims: OidcClaims): Promise<FoundUser> {
    const now = this.clock.now();
    const known = await this.identities.findBySubject(tx, provider, claims.subject);
    if (known) {
      const user = await this.users.lockById(tx, known.userId);
      if (!user) throw new DomainError('OIDC_SIGN_IN_REJECTED');
      assertNotSuspended(user);
      // Linked, before links needed a verified row, to a row whose password someone else may hold.
      if (!user.emailVerifiedAt && known.email?.toLowerCase() === user.email.toLowerCase()) return this.reclaim(tx, user, now, { except: known.id });
      return { user, linked: null, reclaimed: null };
    }
    const email = emailSchema.safeParse(claims.email);
    if (!email.success || !claims.emailVerified) throw new DomainError('OIDC_EMAIL_UNVERIFIED');
    const existing = await this.users.lockByEmail(tx, email.data);
    let found: FoundUser;
    if (existing) {
      assertNotSuspended(existing);
      found = existing.emailVerifiedAt ? { user: existing, linked: null, reclaimed: null } : await this.reclaim(tx, existing, now);
    } else {
      const created = await this.users.createIn(tx, newUserFrom(email.data, claims, now));
      // Registered by someone else between the lookup and the insert: try again to link it.
      if (created.outcome === 'email-taken') throw new DomainError('CONFLICT');
      found = { user: created.user, linked: null, reclaimed: null };
    }
    const linked = await this.identities.insert(tx, { userId: found.user.id, provider, subject: claims.subject, email: email.data });
    // Two first sign-ins of one person at once: the other one linked it; this one writes nothing.
    if (linked.outcome === 'already-linked') throw new DomainError('CONFLICT');
    // A new way into an account that existed: its owner hears of it.
    return existing ? { ...found, linked: { email: email.data } } : found;
  }

  /**
   * The provider's verified email wins over a row nobody verified: the email is unique, so no
   * second user can be made for it, and whoever registered the row without proving the address
   * must lose every way in it gave them. Its password, logins, API keys, pending password resets,
   * 2FA and other identities go; it becomes ACTIVE, its email verified now. The row is locked.
   */
  private async reclaim(tx: Transaction, row: UserRow, now: Date, keep?: { except: string }): Promise<FoundUser> {
    const user = await this.users.reclaim(tx, row.id, now);
    if (!user) throw new DomainError('OIDC_SIGN_IN_REJECTED');
    await this.access.endCredentialsOf(tx, user.id, now);
    const revokedKeyIds = await this.apiKeys.revokeAllOf(tx, user.id, now);
    await this.identities.deleteAllOf(tx, user.id, keep);
    return { user, linked: null, reclaimed: { wasStatus: row.status, hadPassword: row.passwordHash !== null, revokedKeyIds } };
  }

  /** Once the sign-in's changes are committed: caches drop what was revoked. */
  private afterCommit(found: FoundUser, provider: string): void {
    const { user, reclaimed } = found;
    if (reclaimed) {
      const { revokedKeyIds, ...was } = reclaimed;
      this.logger.warn(
        { event: 'account_reclaimed', userId: user.id, provider, ...was, revokedApiKeys: revokedKeyIds.length },
        'Security: an account whose email nobody had verified was reclaimed by a provider sign-in that verified it',
      );
      this.events.emit('user.sessions-revoked', { userId: user.id });
      this.events.emit('user.access-changed', { userId: user.id });
      if (revokedKeyIds.length > 0) this.events.emit('api-keys.revoked', { keyIds: revokedKeyIds });
    }
  }
}

/** Who signs in, and what the sign-in changed that must be announced once it has committed. */
interface FoundUser {
  user: UserRow;
  /** A new identity linked to an account that existed before this sign-in. */
  linked: { email: string } | null;
  /** The row was reclaimed: what it was, and the keys it lost. */
  reclaimed: { wasStatus: UserRow['status']; hadPassword: boolean; revokedKeyIds: string[] } | null;
}

export const callbackPath = (provider: string) => `/v1/auth/oidc/${provider}/callback`;

function assertNotSuspended(user: UserRow): void {
  if (user.status === 'SUSPENDED') throw new DomainError('ACCOUNT_SUSPENDED');
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
