import { Injectable, Logger } from '@nestjs/common';
import type * as OpenId from 'openid-client' with { 'resolution-mode': 'import' };
import { TtlCache } from '../../common/cache/ttl-cache';
import { Clock } from '../../common/clock';
import { causeChain } from '../../lib/cause-chain';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig, InjectConfig } from '../../config/config';
import type { OidcProviderConfig } from '../../config/oidc.config';

/** openid-client is an ES module; this CommonJS build loads it once, on first use. */
let library: Promise<typeof OpenId> | undefined;
const openid = () => (library ??= import('openid-client'));

/** Discovered metadata is used this long before it is fetched again (key rotation, moved endpoints). */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
/** A provider that cannot be reached is asked again on the next request; clients are told to wait this long. */
const RETRY_AFTER_SECONDS = 30;

/** What /authorize must remember for /callback: the library's own random values. */
export interface SignInChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The person the provider vouched for, from the validated ID token (and userinfo for what it lacks). */
export interface OidcClaims {
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  givenName: string | undefined;
  familyName: string | undefined;
  name: string | undefined;
  locale: string | undefined;
  zoneinfo: string | undefined;
}

/**
 * The configured providers and every call to them, all through openid-client: discovery, PKCE
 * (S256), state, nonce, the code exchange and ID-token validation (issuer, audience, expiry,
 * nonce, and the signature against the provider's JWKS). Failures come out as domain errors: a
 * provider that cannot be reached in OIDC_TIMEOUT is SERVICE_UNAVAILABLE, anything it or its
 * tokens fail is OIDC_SIGN_IN_REJECTED.
 */
@Injectable()
export class OidcClients {
  private readonly logger = new Logger('OidcClients');
  /**
   * Each provider's discovered metadata, by name. Concurrent sign-ins share one discovery, and
   * TtlCache keeps only a load that resolved: a failed discovery is not kept, the next sign-in asks again.
   */
  private readonly discovered: TtlCache<string, OpenId.Configuration>;

  constructor(
    clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.discovered = new TtlCache(clock, { ttlMs: DISCOVERY_TTL_MS, maxEntries: Math.max(1, config.oidc.providers.length) });
  }

  provider(name: string): OidcProviderConfig {
    const provider = this.config.oidc.providers.find((candidate) => candidate.name === name);
    if (!provider) throw new DomainError('OIDC_PROVIDER_NOT_FOUND');
    return provider;
  }

  /** The redirect URI registered with the provider: PUBLIC_BASE_URL, as clients reach us. */
  redirectUri(provider: OidcProviderConfig): string {
    return `${this.config.publicBaseUrl}/v1/auth/oidc/${provider.name}/callback`;
  }

  async authorizationUrl(provider: OidcProviderConfig): Promise<{ url: string; checks: SignInChecks }> {
    const configuration = await this.configuration(provider);
    const client = await openid();
    const checks = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri(provider),
      scope: provider.scopes,
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, checks };
  }

  /** Exchanges the code of the callback's query (`search`) and returns the validated claims. */
  async claims(provider: OidcProviderConfig, search: string, checks: SignInChecks): Promise<OidcClaims> {
    const configuration = await this.configuration(provider);
    const client = await openid();
    const currentUrl = new URL(this.redirectUri(provider));
    currentUrl.search = search;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.codeVerifier,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      // Providers may keep profile claims out of the ID token (the spec's default): userinfo has them.
      const info = idToken.email === undefined ? await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub) : undefined;
      return toClaims(idToken, info);
    } catch (error) {
      throw this.failure(provider, error, 'OIDC_SIGN_IN_REJECTED');
    }
  }

  private configuration(provider: OidcProviderConfig): Promise<OpenId.Configuration> {
    return this.discovered.get(provider.name, () => this.discover(provider));
  }

  private async discover(provider: OidcProviderConfig): Promise<OpenId.Configuration> {
    const client = await openid();
    const execute = [client.enableNonRepudiationChecks, ...(this.config.oidc.allowHttpIssuers ? [client.allowInsecureRequests] : [])];
    try {
      return await client.discovery(new URL(provider.issuer), provider.clientId, provider.clientSecret, undefined, {
        execute,
        timeout: this.config.oidc.timeoutSeconds,
      });
    } catch (error) {
      throw this.failure(provider, error, 'SERVICE_UNAVAILABLE');
    }
  }

  private failure(provider: OidcProviderConfig, error: unknown, otherwise: 'OIDC_SIGN_IN_REJECTED' | 'SERVICE_UNAVAILABLE'): DomainError {
    if (error instanceof DomainError) return error as DomainError;
    const unavailable = otherwise === 'SERVICE_UNAVAILABLE' || isUnreachable(error);
    this.logger.warn(`OIDC provider ${provider.name}: ${describe(error)}`);
    return unavailable
      ? new DomainError('SERVICE_UNAVAILABLE', { params: { retryAfter: RETRY_AFTER_SECONDS }, cause: error })
      : new DomainError('OIDC_SIGN_IN_REJECTED', { cause: error });
  }
}

function toClaims(idToken: OpenId.IDToken, info: OpenId.UserInfoResponse | undefined): OidcClaims {
  const claims = { ...info, ...idToken };
  const verified: unknown = claims.email_verified;
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
  return {
    subject: idToken.sub,
    email: text(claims.email),
    // Some providers send "true" as a string; only a true of either kind counts.
    emailVerified: verified === true || verified === 'true',
    givenName: text(claims.given_name),
    familyName: text(claims.family_name),
    name: text(claims.name),
    locale: text(claims.locale),
    zoneinfo: text(claims.zoneinfo),
  };
}

/** A network failure or timeout anywhere in the cause chain, or a 5xx from the provider. */
function isUnreachable(error: unknown): boolean {
  return causeChain(error).some((link) => {
    if (link.name === 'TimeoutError' || link.name === 'AbortError' || (link instanceof TypeError && link.message === 'fetch failed')) return true;
    const status = (link as { status?: unknown }).status;
    return (typeof status === 'number' && status >= 500) || (link.cause instanceof Response && link.cause.status >= 500);
  });
}

function describe(error: unknown): string {
  const messages = causeChain(error, 3).map((link) => link.message);
  return messages.join(': ') || String(error);
}
