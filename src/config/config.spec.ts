import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STRIPE_TEST_SECRET_KEY, STRIPE_TEST_WEBHOOK_SECRET } from '../../scripts/stripe-dev/fake-stripe';
import { ConfigError, loadConfig, PUBLISHED_STRIPE_SECRETS, readProcessEnv } from './config';

const SECRET = { JWT_SECRET: 'a-secret-of-at-least-thirty-two-bytes!' };

describe('loadConfig', () => {
  it('applies the documented defaults to an environment with only a JWT secret', () => {
    const config = loadConfig(SECRET);
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      host: '0.0.0.0',
      publicBaseUrl: 'http://localhost:3000',
      corsOrigins: [],
      trustProxy: [],
      bodyLimitBytes: 1024 * 1024,
      database: { url: undefined, embeddedDir: '.data/postgres', embeddedPort: 0 },
      auth: {
        accessTokenTtlSeconds: 900,
        refreshTokenTtlSeconds: 30 * 86_400,
        // Outside production over http (issue 22's development preset); production defaults to Secure.
        cookieName: 'gatehouse_auth',
        refreshCookieName: 'gatehouse_auth_refresh',
        cookieSecure: false,
        loginFailureLimit: { count: 10, windowSeconds: 900 },
      },
    });
  });

  it('parses durations and limits', () => {
    const config = loadConfig({ ...SECRET, ACCESS_TOKEN_TTL: '5m', REFRESH_TOKEN_TTL: '7d', LOGIN_FAILURE_LIMIT: '3/60', COOKIE_SECURE: 'false' });
    expect(config.auth).toMatchObject({
      accessTokenTtlSeconds: 300,
      refreshTokenTtlSeconds: 604_800,
      loginFailureLimit: { count: 3, windowSeconds: 60 },
      cookieSecure: false,
    });
  });

  it('issue 20: gives each shutdown step a deadline, and refuses steps that do not fit in SHUTDOWN_TIMEOUT_MS with a second to spare', () => {
    expect(loadConfig(SECRET).shutdown).toEqual({ timeoutMs: 9_000, requestsTimeoutMs: 3_000, tasksTimeoutMs: 2_000, flushTimeoutMs: 2_500 });
    expect(() => loadConfig({ ...SECRET, SHUTDOWN_TIMEOUT_MS: '5000' })).toThrow(/SHUTDOWN_TIMEOUT_MS: 5000 ms is shorter than its steps/);
    expect(
      loadConfig({
        ...SECRET,
        SHUTDOWN_TIMEOUT_MS: '5000',
        SHUTDOWN_REQUESTS_TIMEOUT_MS: '1000',
        SHUTDOWN_TASKS_TIMEOUT_MS: '1000',
        SHUTDOWN_FLUSH_TIMEOUT_MS: '1500',
      }).shutdown.timeoutMs,
    ).toBe(5_000);
  });

  it('issue 20: caps password hashing at one CPU fewer than the machine has (1 to 4), with 16 waiting', () => {
    const { concurrency, queue } = loadConfig(SECRET).auth.passwordHashing;
    expect(concurrency).toBe(Math.min(4, Math.max(1, availableParallelism() - 1)));
    expect(queue).toBe(16);
    expect(loadConfig({ ...SECRET, PASSWORD_HASH_CONCURRENCY: '3', PASSWORD_HASH_QUEUE: '0' }).auth.passwordHashing).toEqual({ concurrency: 3, queue: 0 });
  });

  it('refuses production settings that would log mails or verification codes', () => {
    expect(() => loadConfig({ ...SECRET, NODE_ENV: 'production', SMS_PROVIDER: 'twilio' })).toThrow(/SMTP_URL: required in production/);
    expect(() => loadConfig({ ...SECRET, NODE_ENV: 'production', SMTP_URL: 'smtp://mail:25' })).toThrow(/SMS_PROVIDER/);
    expect(() => loadConfig({ ...SECRET, SMS_PROVIDER: 'twilio' })).toThrow(/TWILIO_ACCOUNT_SID/);
    expect(() => loadConfig({ ...SECRET, ADMIN_EMAIL: 'a@example.com' })).toThrow(/ADMIN_EMAIL, ADMIN_PASSWORD/);
  });

  it("refuses the local fake Stripe's published secrets in production (anyone could sign Stripe events with them)", () => {
    expect([...PUBLISHED_STRIPE_SECRETS].sort()).toEqual([STRIPE_TEST_SECRET_KEY, STRIPE_TEST_WEBHOOK_SECRET].sort());
    const production = { ...SECRET, NODE_ENV: 'production' };
    expect(() => loadConfig({ ...production, STRIPE_WEBHOOK_SECRET: STRIPE_TEST_WEBHOOK_SECRET })).toThrow(/STRIPE_WEBHOOK_SECRET: the local fake Stripe's/);
    expect(() => loadConfig({ ...production, STRIPE_SECRET_KEY: STRIPE_TEST_SECRET_KEY })).toThrow(/STRIPE_SECRET_KEY: the local fake Stripe's/);
    expect(() => loadConfig({ ...production, STRIPE_WEBHOOK_SECRET: 'whsec_a_real_one_0123456789' })).not.toThrow(/STRIPE_WEBHOOK_SECRET/);
    // Outside production they are exactly what development with the fake uses.
    expect(loadConfig({ ...SECRET, STRIPE_WEBHOOK_SECRET: STRIPE_TEST_WEBHOOK_SECRET, STRIPE_SECRET_KEY: STRIPE_TEST_SECRET_KEY })).toBeDefined();
  });

  it('names the login cookies __Host- (access, Path=/) and __Secure- (refresh, Path=/v1/auth) when Secure, plain otherwise', () => {
    expect(loadConfig({ ...SECRET, AUTH_COOKIE_NAME: 'gh', COOKIE_SECURE: 'true' }).auth).toMatchObject({
      cookieName: '__Host-gh',
      refreshCookieName: '__Secure-gh_refresh',
    });
    expect(loadConfig({ ...SECRET, AUTH_COOKIE_NAME: 'gh', COOKIE_SECURE: 'false' }).auth).toMatchObject({ cookieName: 'gh', refreshCookieName: 'gh_refresh' });
  });

  describe('issue 22: the development preset', () => {
    it('derives PUBLIC_BASE_URL and the allowed link origins from HOST and PORT outside production', () => {
      const config = loadConfig({ ...SECRET, PORT: '3310' });
      expect(config.publicBaseUrl).toBe('http://localhost:3310');
      expect(config.allowedLinkOrigins).toEqual(['http://localhost:3310']);
      expect(loadConfig({ ...SECRET, HOST: '127.0.0.1', PORT: '4000' }).publicBaseUrl).toBe('http://127.0.0.1:4000');
      expect(loadConfig({ ...SECRET, HOST: '::1', PORT: '4000' }).publicBaseUrl).toBe('http://[::1]:4000');
      expect(loadConfig({ ...SECRET, HOST: '::', PORT: '4000' }).publicBaseUrl).toBe('http://localhost:4000');
      expect(loadConfig({ ...SECRET, PORT: '3310', PUBLIC_BASE_URL: 'https://api.example.com' }).publicBaseUrl).toBe('https://api.example.com');
    });

    it("links mails to Gatehouse's own /activate and /reset-password pages under PUBLIC_BASE_URL, unless ACTIVATION_PAGE_URL / PASSWORD_RESET_PAGE_URL say otherwise", () => {
      expect(loadConfig({ ...SECRET, PORT: '3310' }).linkPages).toEqual({
        activation: 'http://localhost:3310/activate',
        passwordReset: 'http://localhost:3310/reset-password',
      });
      expect(loadConfig({ ...SECRET, PUBLIC_BASE_URL: 'https://example.com/gatehouse/' }).linkPages.activation).toBe('https://example.com/gatehouse/activate');
      const vendor = loadConfig({
        ...SECRET,
        ACTIVATION_PAGE_URL: 'https://app.example.com/welcome',
        PASSWORD_RESET_PAGE_URL: 'https://app.example.com/reset',
      });
      expect(vendor.linkPages).toEqual({ activation: 'https://app.example.com/welcome', passwordReset: 'https://app.example.com/reset' });
      expect(() => loadConfig({ ...SECRET, ACTIVATION_PAGE_URL: 'ftp://app.example.com/welcome' })).toThrow(ConfigError);
    });

    it('defaults COOKIE_SECURE to false over http outside production, true over https and in production', () => {
      expect(loadConfig(SECRET).auth.cookieSecure).toBe(false);
      expect(loadConfig({ ...SECRET, PUBLIC_BASE_URL: 'https://api.example.com' }).auth.cookieSecure).toBe(true);
      expect(loadConfig({ ...SECRET, COOKIE_SECURE: 'true' }).auth).toMatchObject({ cookieSecure: true, cookieName: '__Host-gatehouse_auth' });
    });
  });

  describe('OIDC providers', () => {
    const AUTHENTIK = {
      OIDC_AUTHENTIK_ISSUER: 'https://auth.example.com/application/o/gatehouse/',
      OIDC_AUTHENTIK_CLIENT_ID: 'gatehouse',
      OIDC_AUTHENTIK_CLIENT_SECRET: 'a-client-secret',
    };

    it('has none by default, and reads each named provider with the default scopes', () => {
      expect(loadConfig(SECRET).oidc).toMatchObject({
        providers: [],
        allowHttpIssuers: false,
        timeoutSeconds: 5,
        stateCookieName: 'gatehouse_auth_oidc',
      });
      expect(loadConfig({ ...SECRET, OIDC_PROVIDERS: 'authentik', ...AUTHENTIK }).oidc.providers).toEqual([
        { name: 'authentik', issuer: AUTHENTIK.OIDC_AUTHENTIK_ISSUER, clientId: 'gatehouse', clientSecret: 'a-client-secret', scopes: 'openid email profile' },
      ]);
    });

    it('names each missing or bad variable of a listed provider', () => {
      expect(() => loadConfig({ ...SECRET, OIDC_PROVIDERS: 'authentik' })).toThrow(
        /OIDC_AUTHENTIK_ISSUER: required[\s\S]*OIDC_AUTHENTIK_CLIENT_ID: required[\s\S]*OIDC_AUTHENTIK_CLIENT_SECRET: required/,
      );
      expect(() => loadConfig({ ...SECRET, OIDC_PROVIDERS: 'authentik', ...AUTHENTIK, OIDC_AUTHENTIK_SCOPES: 'email profile' })).toThrow(
        /OIDC_AUTHENTIK_SCOPES: must include openid/,
      );
      expect(() => loadConfig({ ...SECRET, OIDC_PROVIDERS: 'Auth-entik' })).toThrow(/OIDC_PROVIDERS/);
      expect(() =>
        loadConfig({ ...SECRET, OIDC_PROVIDERS: 'a,a', OIDC_A_ISSUER: 'https://a.example.com', OIDC_A_CLIENT_ID: 'x', OIDC_A_CLIENT_SECRET: 'y' }),
      ).toThrow(/twice/);
    });

    it('refuses an http issuer unless OIDC_ALLOW_HTTP_ISSUERS, which production refuses', () => {
      const http = { OIDC_PROVIDERS: 'authentik', ...AUTHENTIK, OIDC_AUTHENTIK_ISSUER: 'http://127.0.0.1:9000' };
      expect(() => loadConfig({ ...SECRET, ...http })).toThrow(/OIDC_AUTHENTIK_ISSUER: must be an https:\/\/ URL/);
      expect(loadConfig({ ...SECRET, ...http, OIDC_ALLOW_HTTP_ISSUERS: 'true' }).oidc.providers[0]?.issuer).toBe('http://127.0.0.1:9000');
      expect(() => loadConfig({ ...SECRET, NODE_ENV: 'production', OIDC_ALLOW_HTTP_ISSUERS: 'true' })).toThrow(
        /OIDC_ALLOW_HTTP_ISSUERS: refused in production/,
      );
    });
  });

  describe('production refuses unsafe defaults', () => {
    const PRODUCTION = {
      ...SECRET,
      NODE_ENV: 'production',
      SMTP_URL: 'smtp://mail:25',
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'twilio-token-0123456789',
      TWILIO_FROM: '+15005550006',
      LICENSE_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
      DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      DATABASE_URL: 'postgres://u:p@db:5432/gatehouse',
      PUBLIC_BASE_URL: 'https://api.example.com',
    };

    it('accepts a complete production environment', () => {
      expect(loadConfig(PRODUCTION).env).toBe('production');
    });

    it('never seeds the fake Stripe test prices in production, STRIPE_API_BASE or not (issue 22)', () => {
      expect(loadConfig({ ...PRODUCTION, STRIPE_API_BASE: 'http://127.0.0.1:12111' }).stripe.seedDevPrices).toBe(false);
      expect(loadConfig({ ...SECRET, STRIPE_API_BASE: 'http://127.0.0.1:12111' }).stripe.seedDevPrices).toBe(true);
    });

    it('serves /dev/mail only on a development machine: never in production, nor at a real address left at the default NODE_ENV', () => {
      expect(loadConfig(PRODUCTION).devMailPage).toBe(false);
      const { NODE_ENV: _, ...defaultEnv } = PRODUCTION;
      expect(loadConfig(defaultEnv).devMailPage).toBe(false);
      expect(loadConfig({ ...SECRET }).devMailPage).toBe(true);
      expect(loadConfig({ ...SECRET, PORT: '3310' }).devMailPage).toBe(true);
      expect(loadConfig({ ...SECRET, PUBLIC_BASE_URL: 'http://127.0.0.1:8080' }).devMailPage).toBe(true);
    });

    it('keeps cookies Secure by default in production, even behind an http PUBLIC_BASE_URL (TLS ends at a proxy)', () => {
      expect(loadConfig({ ...PRODUCTION, PUBLIC_BASE_URL: 'http://api.example.com' }).auth.cookieSecure).toBe(true);
    });

    it('without DATABASE_URL (the embedded database in a container is a data-loss trap)', () => {
      const { DATABASE_URL: _, ...rest } = PRODUCTION;
      expect(() => loadConfig(rest)).toThrow(/DATABASE_URL: required in production/);
      expect(loadConfig({ ...rest, NODE_ENV: 'development' }).database.url).toBeUndefined();
    });

    it.each(['http://localhost:3000', 'https://localhost', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'http://api.localhost'])(
      'with PUBLIC_BASE_URL on a loopback address (%s), or left at its default',
      (url) => {
        expect(() => loadConfig({ ...PRODUCTION, PUBLIC_BASE_URL: url })).toThrow(/PUBLIC_BASE_URL: .* loopback/);
        expect(loadConfig({ ...PRODUCTION, PUBLIC_BASE_URL: url, NODE_ENV: 'development' }).publicBaseUrl).toBe(url);
      },
    );

    it('without DATA_ENCRYPTION_KEY (secrets would be sealed with a key nobody keeps); the deprecated WEBHOOK_SECRET_KEY still serves', () => {
      const { DATA_ENCRYPTION_KEY: key, ...rest } = PRODUCTION;
      expect(() => loadConfig(rest)).toThrow(/DATA_ENCRYPTION_KEY: required in production/);
      expect(loadConfig({ ...rest, NODE_ENV: 'development' }).dataEncryption.key).toBeUndefined();
      expect(loadConfig({ ...rest, WEBHOOK_SECRET_KEY: key }).dataEncryption).toMatchObject({
        key: { version: 'v1', base64: key },
        deprecatedNames: ['WEBHOOK_SECRET_KEY'],
      });
    });

    it.each(['WEBHOOKS_ALLOW_INSECURE', 'WEBHOOKS_ALLOW_PRIVATE_NETWORKS'])(
      'with %s, unless WEBHOOKS_UNSAFE_IN_PRODUCTION=i-understand says it is intended',
      (name) => {
        expect(() => loadConfig({ ...PRODUCTION, [name]: 'true' })).toThrow(
          new RegExp(`${name}: refused in production.*WEBHOOKS_UNSAFE_IN_PRODUCTION=i-understand`),
        );
        expect(() => loadConfig({ ...PRODUCTION, [name]: 'true', WEBHOOKS_UNSAFE_IN_PRODUCTION: 'true' })).toThrow(
          /WEBHOOKS_UNSAFE_IN_PRODUCTION: must be exactly "i-understand"/,
        );
        expect(loadConfig({ ...PRODUCTION, [name]: 'true', WEBHOOKS_UNSAFE_IN_PRODUCTION: 'i-understand' }).webhooks).toMatchObject({
          allowInsecure: name === 'WEBHOOKS_ALLOW_INSECURE',
          allowPrivateNetworks: name === 'WEBHOOKS_ALLOW_PRIVATE_NETWORKS',
        });
        expect(loadConfig({ ...PRODUCTION, [name]: 'false' }).env).toBe('production');
        expect(loadConfig({ ...PRODUCTION, [name]: 'true', NODE_ENV: 'development' }).env).toBe('development');
      },
    );

    it('with PUBLIC_BASE_URL unset', () => {
      const { PUBLIC_BASE_URL: _, ...rest } = PRODUCTION;
      expect(() => loadConfig(rest)).toThrow(/PUBLIC_BASE_URL/);
    });
  });

  it('reads the webhook settings, safe by default', () => {
    expect(loadConfig(SECRET).webhooks).toEqual({
      allowInsecure: false,
      allowPrivateNetworks: false,
      retentionDays: 30,
      attemptTimeoutMs: 15_000,
      dispatch: true,
      dnsServers: [],
      dispatchConcurrency: 100,
      maxInFlightPerEndpoint: 4,
      maxEndpointsPerUser: 20,
    });
    expect(
      loadConfig({ ...SECRET, WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOKS_ALLOW_PRIVATE_NETWORKS: '1', WEBHOOK_RETENTION_DAYS: '7' }).webhooks,
    ).toMatchObject({ allowInsecure: true, allowPrivateNetworks: true, retentionDays: 7 });
  });

  describe('the data encryption key (DATA_ENCRYPTION_KEY, formerly WEBHOOK_SECRET_KEY)', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const other = Buffer.alloc(32, 2).toString('base64');

    it('is unset by default, generated into .data/webhook-secret-key outside production', () => {
      expect(loadConfig(SECRET).dataEncryption).toEqual({ key: undefined, previousKeys: [], keyFile: '.data/webhook-secret-key', deprecatedNames: [] });
    });

    it('reads the new name, and the deprecated one when it alone is set or both agree', () => {
      expect(loadConfig({ ...SECRET, DATA_ENCRYPTION_KEY: key }).dataEncryption).toMatchObject({ key: { version: 'v1', base64: key }, deprecatedNames: [] });
      expect(loadConfig({ ...SECRET, WEBHOOK_SECRET_KEY: key, WEBHOOK_SECRET_KEY_FILE: '/keys/k' }).dataEncryption).toEqual({
        key: { version: 'v1', base64: key },
        previousKeys: [],
        keyFile: '/keys/k',
        deprecatedNames: ['WEBHOOK_SECRET_KEY', 'WEBHOOK_SECRET_KEY_FILE'],
      });
      expect(loadConfig({ ...SECRET, DATA_ENCRYPTION_KEY: `v1:${key}`, WEBHOOK_SECRET_KEY: key }).dataEncryption.key).toEqual({ version: 'v1', base64: key });
    });

    it('refuses to start when both names are set to different keys or files, naming both', () => {
      expect(() => loadConfig({ ...SECRET, DATA_ENCRYPTION_KEY: key, WEBHOOK_SECRET_KEY: other })).toThrow(
        /DATA_ENCRYPTION_KEY, WEBHOOK_SECRET_KEY: both set, to different keys/,
      );
      expect(() => loadConfig({ ...SECRET, DATA_ENCRYPTION_KEY: `v2:${key}`, WEBHOOK_SECRET_KEY: key })).toThrow(/both set, to different keys/);
      expect(() => loadConfig({ ...SECRET, DATA_ENCRYPTION_KEY_FILE: '/a', WEBHOOK_SECRET_KEY_FILE: '/b' })).toThrow(
        /DATA_ENCRYPTION_KEY_FILE, WEBHOOK_SECRET_KEY_FILE: both set, to different files/,
      );
    });

    it('takes a rotation: a versioned key and the previous keys, each version once', () => {
      expect(loadConfig({ ...SECRET, DATA_ENCRYPTION_KEY: `v2:${other}`, DATA_ENCRYPTION_PREVIOUS_KEYS: key }).dataEncryption).toMatchObject({
        key: { version: 'v2', base64: other },
        previousKeys: [{ version: 'v1', base64: key }],
      });
      expect(() => loadConfig({ ...SECRET, DATA_ENCRYPTION_KEY: other, DATA_ENCRYPTION_PREVIOUS_KEYS: key })).toThrow(
        /DATA_ENCRYPTION_PREVIOUS_KEYS: version v1 named twice/,
      );
      expect(() => loadConfig({ ...SECRET, DATA_ENCRYPTION_PREVIOUS_KEYS: `v1:${key}` })).toThrow(/DATA_ENCRYPTION_PREVIOUS_KEYS: set DATA_ENCRYPTION_KEY too/);
    });
  });

  it('reads the DNS servers deliveries resolve through, refusing what is not an address', () => {
    expect(loadConfig({ ...SECRET, WEBHOOK_DNS_SERVERS: '1.1.1.1, 9.9.9.9:5353,2606:4700::1111,[2620:fe::fe]:53' }).webhooks.dnsServers).toEqual([
      '1.1.1.1',
      '9.9.9.9:5353',
      '2606:4700::1111',
      '[2620:fe::fe]:53',
    ]);
    expect(() => loadConfig({ ...SECRET, WEBHOOK_DNS_SERVERS: 'dns.example.com' })).toThrow(/WEBHOOK_DNS_SERVERS.*must be an IP address/);
    expect(() => loadConfig({ ...SECRET, WEBHOOK_DNS_SERVERS: '1.1.1.1:99999' })).toThrow(/WEBHOOK_DNS_SERVERS/);
  });

  it('requires a JWT secret of at least 32 bytes', () => {
    expect(() => loadConfig({})).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ JWT_SECRET: 'too-short' })).toThrow(/JWT_SECRET: must be at least 32 bytes/);
  });

  it('parses lists and trims a trailing slash from PUBLIC_BASE_URL', () => {
    const config = loadConfig({
      ...SECRET,
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      TRUST_PROXY: '10.0.0.0/8,127.0.0.1, ::1,loopback',
      PUBLIC_BASE_URL: 'https://api.example.com/',
      DATABASE_URL: 'postgres://u:p@db:5432/gatehouse',
    });
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'loopback']);
    expect(config.publicBaseUrl).toBe('https://api.example.com');
    expect(config.database.url).toBe('postgres://u:p@db:5432/gatehouse');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['PUBLIC_BASE_URL', 'not a url'],
    ['CORS_ORIGINS', 'https://ok.example.com,https://bad.example.com/path'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'proxy.internal'],
    ['BODY_LIMIT_BYTES', '-1'],
    ['ACCESS_TOKEN_TTL', '15 minutes'],
    ['LOGIN_FAILURE_LIMIT', '10'],
    ['COOKIE_SECURE', 'yes'],
    ['WEBHOOK_SECRET_KEY', Buffer.alloc(16).toString('base64')],
    ['DATA_ENCRYPTION_KEY', 'not-base64-at-all-but-forty-four-characters!'],
    ['DATA_ENCRYPTION_KEY', `v0:${Buffer.alloc(32).toString('base64')}`],
    ['DATA_ENCRYPTION_PREVIOUS_KEYS', Buffer.alloc(16).toString('base64')],
    ['WEBHOOKS_ALLOW_INSECURE', 'yes'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ ...SECRET, [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(name);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...SECRET, PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 3000, database: { url: undefined } });
  });
});

describe('readProcessEnv', () => {
  it('loads .env underneath the real environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-env-'));
    writeFileSync(join(dir, '.env'), 'GATEHOUSE_TEST_FROM_FILE=file\nPATH=from-file\n');
    const env = readProcessEnv(dir);
    expect(env.GATEHOUSE_TEST_FROM_FILE).toBe('file');
    expect(env.PATH).toBe(process.env.PATH);
  });

  it('generates a development JWT secret once and keeps it under .data/', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-env-'));
    const saved = { secret: process.env.JWT_SECRET, env: process.env.NODE_ENV };
    delete process.env.JWT_SECRET;
    process.env.NODE_ENV = 'development';
    try {
      const first = readProcessEnv(dir).JWT_SECRET;
      expect(first?.length).toBeGreaterThanOrEqual(32);
      expect(readProcessEnv(dir).JWT_SECRET).toBe(first);
      process.env.NODE_ENV = 'production';
      expect(readProcessEnv(mkdtempSync(join(tmpdir(), 'gatehouse-env-'))).JWT_SECRET).toBeUndefined();
    } finally {
      if (saved.secret !== undefined) process.env.JWT_SECRET = saved.secret;
      if (saved.env !== undefined) process.env.NODE_ENV = saved.env;
      else delete process.env.NODE_ENV;
    }
  });

  it('works without a .env file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-env-'));
    expect(readProcessEnv(dir).PATH).toBe(process.env.PATH);
  });
});
