import { createSign, generateKeyPairSync, KeyObject } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** The person the next sign-in at the test provider logs in as. */
export interface TestOidcAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
}

/** What the test may do to an ID token on its way out of the token endpoint. */
export type IdTokenTamper = (token: { header: Record<string, unknown>; payload: Record<string, unknown> }, sign: (token: object) => string) => string;

// The parts of oidc-provider (ESM, untyped) this helper uses.
interface KoaContext {
  path: string;
  body: unknown;
}
interface Grant {
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
}
interface ProviderInstance {
  Grant: new (init: { accountId: string; clientId: string }) => Grant;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ params: Record<string, string> }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options: object): Promise<void>;
}
type ProviderClass = new (issuer: string, configuration: object) => ProviderInstance;

export const TEST_OIDC_CLIENT = { id: 'gatehouse', secret: 'test-oidc-client-secret-0123456789' };

/**
 * A real OpenID provider (the `oidc-provider` package) on a free local port, with one client
 * registered for `redirectUri`. Its login and consent are a stub: the first visit to the
 * interaction URL logs in `account` and grants the requested scopes, so a test drives the whole
 * flow over HTTP with no browser. ID tokens are signed with a key the test holds, so `tamper`
 * can change one (or its signature) on its way out of the token endpoint.
 */
export class TestOidcProvider {
  account: TestOidcAccount = { sub: 'nobody' };
  tamper: IdTokenTamper | undefined;

  private constructor(
    readonly issuer: string,
    private readonly server: Server,
    private readonly signingKey: KeyObject,
  ) {}

  static async start(redirectUri: string): Promise<TestOidcProvider> {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const self = new TestOidcProvider(issuer, server, privateKey);
    // A name TypeScript does not resolve: the package ships no types, ProviderClass stands in.
    const packageName: string = 'oidc-provider';
    const { default: Provider } = (await import(packageName)) as { default: ProviderClass };
    const provider = new Provider(issuer, {
      clients: [{ client_id: TEST_OIDC_CLIENT.id, client_secret: TEST_OIDC_CLIENT.secret, redirect_uris: [redirectUri] }],
      jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' }] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
      findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ ...self.account, sub: id }) }),
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      features: { devInteractions: { enabled: false } },
      pkce: { required: () => true },
      cookies: { keys: ['test-oidc-provider-cookie-key'] },
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    });
    provider.use(async (ctx, next) => {
      await next();
      const body = ctx.body as { id_token?: string } | undefined;
      if (ctx.path === '/token' && self.tamper && typeof body?.id_token === 'string') {
        ctx.body = { ...body, id_token: self.tamper(decode(body.id_token), (token) => self.sign(token)) };
      }
    });
    const handle = provider.callback();
    server.on('request', (req, res) => {
      if (!req.url?.startsWith('/interaction/')) return handle(req, res);
      void self.finishInteraction(provider, req, res);
    });
    return self;
  }

  /** The environment that configures the app for this provider as `name`. */
  env(name = 'test'): Record<string, string> {
    const prefix = `OIDC_${name.toUpperCase()}_`;
    return {
      OIDC_PROVIDERS: name,
      OIDC_ALLOW_HTTP_ISSUERS: 'true',
      [`${prefix}ISSUER`]: this.issuer,
      [`${prefix}CLIENT_ID`]: TEST_OIDC_CLIENT.id,
      [`${prefix}CLIENT_SECRET`]: TEST_OIDC_CLIENT.secret,
    };
  }

  /**
   * Follows the provider's redirects from the authorization URL, as a browser would, through
   * login and consent, and returns the URL it finally sends the browser to (the callback).
   */
  async authorize(authorizationUrl: string, signInAs: TestOidcAccount): Promise<URL> {
    this.account = signInAs;
    const jar = new Map<string, string>();
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop < 10; hop++) {
      if (url.origin !== this.issuer) return url;
      const response = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') } });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = ''] = cookie.split(';');
        const [name = '', value = ''] = pair.split('=');
        jar.set(name, value);
      }
      const location = response.headers.get('location');
      if (!location) throw new Error(`The provider answered ${response.status} without a redirect: ${await response.text()}`);
      url = new URL(location, url);
    }
    throw new Error('Too many redirects at the provider');
  }

  /** A JWS of `token` signed with the provider's key: a well-signed token with other claims. */
  sign(token: { header?: object; payload?: object }): string {
    const header = base64url({ alg: 'RS256', kid: 'test-key', typ: 'JWT', ...token.header });
    const payload = base64url(token.payload ?? {});
    const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(this.signingKey).toString('base64url');
    return `${header}.${payload}.${signature}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async finishInteraction(provider: ProviderInstance, req: IncomingMessage, res: ServerResponse) {
    try {
      const { params } = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId: this.account.sub, clientId: params.client_id! });
      grant.addOIDCScope(params.scope!);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId: this.account.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  }
}

/**
 * A whole sign-in through the app as a browser makes it: authorize, the provider's login as
 * `account`, then the app's callback with the sign-in cookie. Returns the callback's answer and
 * the cookies it set (`gatehouse_auth` and `gatehouse_auth_refresh` on success).
 */
export async function signInThroughApp(app: NestFastifyApplication, provider: TestOidcProvider, account: TestOidcAccount, redirect: string, name = 'test') {
  const started = await app.inject({ method: 'GET', url: `/v1/auth/oidc/${name}/authorize?redirect=${encodeURIComponent(redirect)}` });
  const stateCookie = started.cookies.find((cookie) => cookie.name === 'gatehouse_auth_oidc');
  if (started.statusCode !== 302 || !stateCookie) throw new Error(`authorize answered ${started.statusCode}: ${started.body}`);
  const callback = await provider.authorize(started.headers.location as string, account);
  const response = await app.inject({
    method: 'GET',
    url: `${callback.pathname}${callback.search}`,
    headers: { cookie: `gatehouse_auth_oidc=${stateCookie.value}` },
  });
  return { response, cookies: Object.fromEntries(response.cookies.map((cookie) => [cookie.name, cookie.value])) };
}

function decode(jws: string) {
  const [header = '', payload = ''] = jws.split('.');
  const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: json(header), payload: json(payload) };
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
