import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { Inject } from '@nestjs/common';
import { DataEncryptionConfig, parseDataEncryption } from './data-encryption.config';
import { Env, envSchema } from './env.schema';
import { OidcProviderConfig, parseOidcProviders } from './oidc.config';

/**
 * The typed configuration every module injects: mapConfig's shape, so a new setting is written in
 * env.schema.ts and where mapConfig groups it, and nowhere else.
 */
export type AppConfig = ReturnType<typeof mapConfig>;

/** A named limit, from `RATE_LIMIT_<NAME>`. */
export type RateLimitPolicy = keyof AppConfig['rateLimit']['policies'];

export const APP_CONFIG = Symbol('APP_CONFIG');

/** How much longer than the server's statement_timeout the driver waits by default. */
const QUERY_TIMEOUT_MARGIN_MS = 1_000;
export const InjectConfig = () => Inject(APP_CONFIG);

/** The last step of a drain: closing the pool waits this long for connections abandoned work still holds. */
export const POOL_CLOSE_TIMEOUT_MS = 500;
/** What a drain leaves of SHUTDOWN_TIMEOUT_MS after its steps, for stopping the embedded PostgreSQL and exiting. */
const SHUTDOWN_MARGIN_MS = 1_000;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (from readProcessEnv(), or a test's own) into the typed config, or throws naming each bad variable. */
export function loadConfig(source: Record<string, string | undefined>): AppConfig {
  const result = envSchema.safeParse(withoutBlanks(source));
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  const env = result.data;
  const missing: string[] = [];
  if (!env.JWT_SECRET) missing.push('JWT_SECRET: required (at least 32 bytes); outside production one is generated under .data/');
  if (env.NODE_ENV === 'production' && !env.SMTP_URL) missing.push('SMTP_URL: required in production (mails are only logged elsewhere)');
  if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) missing.push('ADMIN_EMAIL, ADMIN_PASSWORD: set both or neither');
  if (env.NODE_ENV === 'production' && !env.LICENSE_SIGNING_KEY) missing.push('LICENSE_SIGNING_KEY: required in production');
  const dataEncryption = parseDataEncryption(env, missing);
  if (env.NODE_ENV === 'production' && !env.DATABASE_URL) {
    missing.push(
      'DATABASE_URL: required in production (the embedded database keeps its data in the working directory; in a container it is lost with the container)',
    );
  }
  if (env.NODE_ENV === 'production' && !env.PUBLIC_BASE_URL) {
    missing.push('PUBLIC_BASE_URL: required in production (the URL clients reach the API at: links in mails and problem types use it)');
  } else if (env.NODE_ENV === 'production' && env.PUBLIC_BASE_URL && isLoopbackUrl(env.PUBLIC_BASE_URL)) {
    missing.push(
      `PUBLIC_BASE_URL: ${env.PUBLIC_BASE_URL} is a loopback address; in production set the URL clients reach the API at (links in mails and problem types use it)`,
    );
  }
  if (env.NODE_ENV === 'production' && env.SMS_PROVIDER === 'log') {
    missing.push('SMS_PROVIDER: "log" writes verification codes to the log; use twilio in production');
  }
  if (env.SMS_PROVIDER === 'twilio') {
    for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const) {
      if (!env[name]) missing.push(`${name}: required when SMS_PROVIDER=twilio`);
    }
  }
  if (env.NODE_ENV === 'production' && env.OIDC_ALLOW_HTTP_ISSUERS) {
    missing.push('OIDC_ALLOW_HTTP_ISSUERS: refused in production (an http issuer lets the network forge sign-ins)');
  }
  if (env.NODE_ENV === 'production' && (env.WEBHOOKS_ALLOW_INSECURE || env.WEBHOOKS_ALLOW_PRIVATE_NETWORKS) && !env.WEBHOOKS_UNSAFE_IN_PRODUCTION) {
    const set = (['WEBHOOKS_ALLOW_INSECURE', 'WEBHOOKS_ALLOW_PRIVATE_NETWORKS'] as const).filter((name) => env[name]).join(', ');
    missing.push(
      `${set}: refused in production (webhooks in clear text, or to this network's own services); set WEBHOOKS_UNSAFE_IN_PRODUCTION=i-understand if that is intended`,
    );
  }
  if (env.NODE_ENV === 'production') {
    for (const name of ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'] as const) {
      if (env[name] && PUBLISHED_STRIPE_SECRETS.has(env[name])) {
        missing.push(
          `${name}: the local fake Stripe's (npm run stripe:dev), published in this repository: refused in production, where anyone could sign Stripe events with it`,
        );
      }
    }
  }
  if (env.DATABASE_QUERY_TIMEOUT_MS !== undefined && env.DATABASE_QUERY_TIMEOUT_MS <= env.DATABASE_STATEMENT_TIMEOUT_MS) {
    missing.push(
      `DATABASE_QUERY_TIMEOUT_MS: must be above DATABASE_STATEMENT_TIMEOUT_MS (${env.DATABASE_STATEMENT_TIMEOUT_MS}), so that a database that answers cancels a slow query itself and keeps the connection`,
    );
  }
  const steps = env.SHUTDOWN_REQUESTS_TIMEOUT_MS + env.SHUTDOWN_TASKS_TIMEOUT_MS + env.SHUTDOWN_FLUSH_TIMEOUT_MS + POOL_CLOSE_TIMEOUT_MS;
  if (steps + SHUTDOWN_MARGIN_MS > env.SHUTDOWN_TIMEOUT_MS) {
    missing.push(
      `SHUTDOWN_TIMEOUT_MS: ${env.SHUTDOWN_TIMEOUT_MS} ms is shorter than its steps (the SHUTDOWN_REQUESTS_, SHUTDOWN_TASKS_ and SHUTDOWN_FLUSH_TIMEOUT_MS and ${POOL_CLOSE_TIMEOUT_MS} ms to close the pool: ${steps} ms) plus ${SHUTDOWN_MARGIN_MS} ms to stop the embedded PostgreSQL`,
    );
  }
  const oidcProviders = parseOidcProviders(env.OIDC_PROVIDERS, withoutBlanks(source), env.OIDC_ALLOW_HTTP_ISSUERS, missing);
  if (missing.length > 0 || !env.JWT_SECRET) throw new ConfigError(missing);
  return mapConfig({ ...env, JWT_SECRET: env.JWT_SECRET }, oidcProviders, dataEncryption);
}

/** The settings `npm run stripe:dev` prints (scripts/stripe-dev/fake-stripe.ts); a config test keeps the two lists equal. */
export const PUBLISHED_STRIPE_SECRETS: ReadonlySet<string> = new Set(['sk_test_gatehouse_fake', 'whsec_gatehouse_test_secret']);

/** Groups the parsed environment into the settings modules read. */
function mapConfig(env: Env & { JWT_SECRET: string }, oidcProviders: OidcProviderConfig[], dataEncryption: DataEncryptionConfig) {
  const publicBaseUrl = env.PUBLIC_BASE_URL ?? developmentBaseUrl(env.HOST, env.PORT);
  const cookieSecure = env.COOKIE_SECURE ?? (env.NODE_ENV === 'production' || publicBaseUrl.startsWith('https:'));
  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    publicBaseUrl,
    /**
     * `/dev/mail` (the mails kept while SMTP_URL is unset, tokens included) is served only on a
     * development machine: outside production, and only while the public URL is this machine's. A
     * server left at the default NODE_ENV but reachable at a real address does not show them.
     */
    devMailPage: env.NODE_ENV !== 'production' && isLoopbackUrl(publicBaseUrl),
    corsOrigins: env.CORS_ORIGINS,
    trustProxy: env.TRUST_PROXY,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    shutdown: {
      /** The whole of a SIGTERM's drain: past it the process exits 1 whatever is left. */
      timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      /** Requests still running this long after the signal have their connections closed. */
      requestsTimeoutMs: env.SHUTDOWN_REQUESTS_TIMEOUT_MS,
      /** Background tasks (mails, webhook attempts) still running this long after the requests are abandoned. */
      tasksTimeoutMs: env.SHUTDOWN_TASKS_TIMEOUT_MS,
      /** Each final flush (usage and audit rows, validation stamps and events) gets this long. */
      flushTimeoutMs: env.SHUTDOWN_FLUSH_TIMEOUT_MS,
    },
    http: {
      /** Longest a client may take to send a whole request (headers and body): slowloris protection. */
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      /** A socket with no traffic for this long is closed. */
      connectionTimeoutMs: env.HTTP_CONNECTION_TIMEOUT_MS,
    },
    database: {
      /** Absent means: start the embedded Postgres. */
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      embeddedDir: env.EMBEDDED_POSTGRES_DIR,
      embeddedPort: env.EMBEDDED_POSTGRES_PORT,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      /** Set on every pool connection, so a hung query or a held lock cannot hold the pool forever. */
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      /**
       * Enforced by the driver, so also while the server cannot answer at all (frozen, a dead host):
       * then the request answers 503 and the connection is closed.
       */
      queryTimeoutMs: env.DATABASE_QUERY_TIMEOUT_MS ?? env.DATABASE_STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_MARGIN_MS,
      lockTimeoutMs: env.DATABASE_LOCK_TIMEOUT_MS,
      idleInTransactionTimeoutMs: env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    auth: {
      jwtSecret: env.JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL,
      /** How long a replaced refresh token still returns its same successor (two tabs refreshing at once). */
      refreshReuseIntervalSeconds: env.REFRESH_TOKEN_REUSE_INTERVAL,
      // __Host- binds the cookie to this host over HTTPS, Path=/ and no Domain, so a sibling
      // subdomain cannot plant one; the refresh cookie's Path=/v1/auth only allows __Secure-.
      /** With cookieSecure, `__Host-<AUTH_COOKIE_NAME>`; else the plain name. */
      cookieName: cookieSecure ? `__Host-${env.AUTH_COOKIE_NAME}` : env.AUTH_COOKIE_NAME,
      /** `__Secure-<AUTH_COOKIE_NAME>_refresh` (or without the prefix when not Secure), scoped to /v1/auth. */
      refreshCookieName: cookieSecure ? `__Secure-${env.AUTH_COOKIE_NAME}_refresh` : `${env.AUTH_COOKIE_NAME}_refresh`,
      cookieSecure,
      /** Failed logins per email+IP before 429; past the same count per email (any IP), logins slow down. */
      loginFailureLimit: env.LOGIN_FAILURE_LIMIT,
      /** The longest a login for an email under attack from many IPs is made to wait. */
      loginSlowdownMaxMs: env.LOGIN_SLOWDOWN_MAX_MS,
      /** argon2 computations at once, and callers that may wait for one; past both, 503 at once. */
      passwordHashing: { concurrency: env.PASSWORD_HASH_CONCURRENCY, queue: env.PASSWORD_HASH_QUEUE },
      passwordResetTtlSeconds: env.PASSWORD_RESET_TTL,
      /** An ADMIN without two-factor login gets a TOTP_SETUP challenge instead of a session. */
      require2faForAdmins: env.REQUIRE_2FA_FOR_ADMINS,
      /** The issuer an authenticator app shows next to the account. */
      totpIssuer: env.TOTP_ISSUER,
    },
    oidc: {
      /** Sign-in through these providers, at /v1/auth/oidc/<name>/…; none by default. */
      providers: oidcProviders,
      /** http:// issuers are accepted (local development and tests; refused in production). */
      allowHttpIssuers: env.OIDC_ALLOW_HTTP_ISSUERS,
      /** Longest wait, in seconds, for one request to a provider (discovery, token, JWKS, userinfo). */
      timeoutSeconds: env.OIDC_TIMEOUT,
      /** Holds state, nonce and PKCE verifier between /authorize and /callback (sealed, 10 minutes). */
      stateCookieName: cookieSecure ? `__Secure-${env.AUTH_COOKIE_NAME}_oidc` : `${env.AUTH_COOKIE_NAME}_oidc`,
    },
    /** Origins our mails may link to (reset and activation pages), so they cannot be used for phishing. */
    allowedLinkOrigins: env.ALLOWED_LINK_ORIGINS.length > 0 ? env.ALLOWED_LINK_ORIGINS : [new URL(publicBaseUrl).origin, ...env.CORS_ORIGINS],
    /**
     * The pages mailed links open when a request names none: Gatehouse's own /activate and
     * /reset-password unless the vendor hosts theirs (configuration, so not checked against
     * allowedLinkOrigins).
     */
    linkPages: {
      activation: env.ACTIVATION_PAGE_URL ?? `${publicBaseUrl}/activate`,
      passwordReset: env.PASSWORD_RESET_PAGE_URL ?? `${publicBaseUrl}/reset-password`,
    },
    mail: {
      /** Unset outside production: mails are written to the log instead. */
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM,
      /** Each phase of an SMTP conversation, and (sendTimeoutMs) one whole attempt, all in. */
      smtp: {
        connectionTimeoutMs: env.SMTP_CONNECTION_TIMEOUT_MS,
        greetingTimeoutMs: env.SMTP_GREETING_TIMEOUT_MS,
        socketTimeoutMs: env.SMTP_SOCKET_TIMEOUT_MS,
        sendTimeoutMs: env.SMTP_SEND_TIMEOUT_MS,
      },
      /** This instance delivers queued mails (off: another instance, or a test, does). */
      send: env.MAIL_SEND,
      /** How often the sender looks for due mails when nothing else wakes it. */
      pollIntervalMs: env.MAIL_POLL_INTERVAL_MS,
      /** Sends this instance has in flight at once. */
      concurrency: env.MAIL_SEND_CONCURRENCY,
      /** Attempts before a mail is given up as FAILED (the dead letter). */
      maxAttempts: env.MAIL_MAX_ATTEMPTS,
      /** The wait after the first failed attempt, doubling with each failure up to retryMaxMs. */
      retryBaseMs: env.MAIL_RETRY_BASE_MS,
      retryMaxMs: env.MAIL_RETRY_MAX_MS,
      /** SENT and FAILED mails are purged this long after they ended. */
      retentionDays: env.MAIL_RETENTION_DAYS,
      /** Password-reset and activation mails one address may be sent per hour; more are not queued. */
      maxPerAddressPerHour: env.MAIL_MAX_PER_ADDRESS_PER_HOUR,
    },
    accounts: {
      emailTokenTtlSeconds: env.EMAIL_TOKEN_TTL,
      /** Verification texts to one phone number per UTC day, across all accounts. */
      phoneSendsPerNumberPerDay: env.PHONE_SENDS_PER_NUMBER_PER_DAY,
    },
    apiKeys: {
      /** Keys read `<prefix>_<live|test>_<secret><checksum>`. */
      prefix: env.API_KEY_PREFIX,
      rotationGraceSeconds: env.API_KEY_ROTATION_GRACE,
      auditLogRetentionDays: env.AUDIT_LOG_RETENTION_DAYS,
      /** Keys a user may hold that are neither revoked nor expired. */
      maxPerUser: env.API_KEYS_MAX_PER_USER,
    },
    licenses: {
      /** PKCS8 PEM of the Ed25519 key that signs offline certificates; outside production, generated into `signingKeyFile` when unset. */
      signingKeyPem: env.LICENSE_SIGNING_KEY,
      signingKeyFile: env.LICENSE_SIGNING_KEY_FILE,
      certificateTtlSeconds: env.LICENSE_CERT_TTL,
      /** How often validation times and license.validated events are written (and once more on graceful shutdown). */
      validationFlushMs: env.LICENSE_VALIDATION_FLUSH_MS,
    },
    stripe: {
      /** Unset: checkout answers 503 (nothing to charge with). */
      secretKey: env.STRIPE_SECRET_KEY,
      /** Unset: every webhook is refused as unverifiable. */
      webhookSecret: env.STRIPE_WEBHOOK_SECRET,
      /** Another host, port and protocol for Stripe's API (a local fake in tests). */
      apiBase: env.STRIPE_API_BASE,
      /** All the Stripe calls of one request, retries included, end by this many ms after the first starts. */
      timeoutMs: env.STRIPE_TIMEOUT_MS,
      /** Further attempts of a call that failed in a way Stripe calls safe to retry, within that deadline. */
      maxRetries: env.STRIPE_MAX_RETRIES,
      /**
       * In development against another Stripe host (`npm run stripe:dev`), paid presets without a
       * Stripe price get the fake's test prices at boot, so checkout works out of the box.
       */
      seedDevPrices: env.NODE_ENV === 'development' && env.STRIPE_API_BASE !== undefined,
    },
    /** A PAST_DUE subscription keeps its plan this long after the failed payment, then reads as NONE. */
    subscriptions: { graceDays: env.SUBSCRIPTION_GRACE_DAYS },
    /** Every unit becomes a license row and a line in the buyer's mail, so one order is bounded. */
    checkout: { maxUnitsPerLine: env.CHECKOUT_MAX_UNITS_PER_LINE, maxUnitsPerOrder: env.CHECKOUT_MAX_UNITS_PER_ORDER },
    outbox: { retentionDays: env.OUTBOX_RETENTION_DAYS },
    /** The SecretBox's AES-256-GCM keys; outside production, generated into `keyFile` when unset. */
    dataEncryption,
    webhooks: {
      /** http:// endpoint URLs are accepted (local development and tests). */
      allowInsecure: env.WEBHOOKS_ALLOW_INSECURE,
      /** Endpoint addresses are not checked against private, loopback and other non-public ranges (tests only). */
      allowPrivateNetworks: env.WEBHOOKS_ALLOW_PRIVATE_NETWORKS,
      retentionDays: env.WEBHOOK_RETENTION_DAYS,
      /** One attempt, all in: resolving, connecting, sending, reading the answer. */
      attemptTimeoutMs: env.WEBHOOK_ATTEMPT_TIMEOUT_MS,
      /** This instance moves outbox events to endpoints (off: another instance, or a test, does). */
      dispatch: env.WEBHOOK_DISPATCH,
      /** DNS servers deliveries resolve endpoint hosts through; empty: the system's. */
      dnsServers: env.WEBHOOK_DNS_SERVERS,
      /** Attempts this instance makes at once, over every endpoint. */
      dispatchConcurrency: env.WEBHOOK_DISPATCH_CONCURRENCY,
      /** Attempts in flight to one endpoint at once, over every instance (1 while the endpoint is failing). */
      maxInFlightPerEndpoint: env.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
      /** Endpoints a user may hold; an ADMIN may hold more. */
      maxEndpointsPerUser: env.WEBHOOK_ENDPOINTS_MAX_PER_USER,
    },
    rateLimit: {
      /** Set: counters live in Redis and every instance shares one exact limit. Unset: in memory. */
      redisUrl: env.REDIS_URL,
      /** Prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
      redisKeyPrefix: env.REDIS_KEY_PREFIX,
      /** A Redis command that has not answered by then fails, and the request answers 503. */
      redisCommandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
      policies: {
        public: env.RATE_LIMIT_PUBLIC,
        authenticated: env.RATE_LIMIT_AUTHENTICATED,
        login: env.RATE_LIMIT_LOGIN,
        register: env.RATE_LIMIT_REGISTER,
        /** Per IP on 2FA verify, per user on confirm and disable. */
        twoFactor: env.RATE_LIMIT_TWO_FACTOR,
        /** Per 2FA challenge, whoever presents it. */
        twoFactorChallenge: env.RATE_LIMIT_TWO_FACTOR_CHALLENGE,
        passwordResetRequest: env.RATE_LIMIT_PASSWORD_RESET_REQUEST,
        /** Per IP on activate-account: a public route, opened from a mailed link. */
        accountActivate: env.RATE_LIMIT_ACCOUNT_ACTIVATE,
        licenseValidate: env.RATE_LIMIT_LICENSE_VALIDATE,
        licenseActivate: env.RATE_LIMIT_LICENSE_ACTIVATE,
        licenseDeactivate: env.RATE_LIMIT_LICENSE_DEACTIVATE,
        accessVerify: env.RATE_LIMIT_ACCESS_VERIFY,
      },
    },
    /** When set, boot makes sure this ACTIVE ADMIN exists. */
    admin: env.ADMIN_EMAIL && env.ADMIN_PASSWORD ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD } : undefined,
    sms:
      env.SMS_PROVIDER === 'twilio'
        ? {
            provider: 'twilio' as const,
            accountSid: env.TWILIO_ACCOUNT_SID!,
            authToken: env.TWILIO_AUTH_TOKEN!,
            from: env.TWILIO_FROM!,
            apiBase: env.TWILIO_API_BASE.replace(/\/+$/, ''),
          }
        : { provider: 'log' as const },
  };
}

/**
 * The process environment with `.env` (when present) underneath it: a variable set in the real
 * environment wins over the file, as with every dotenv loader. Outside production, a missing
 * JWT_SECRET is generated once and kept in .data/, so `npm start` needs no setup.
 */
export function readProcessEnv(cwd = process.cwd()): Record<string, string | undefined> {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  const env: Record<string, string | undefined> = { ...fromFile, ...process.env };
  if (!env.JWT_SECRET && env.NODE_ENV !== 'production') env.JWT_SECRET = developmentSecret(resolve(cwd, '.data/jwt-secret'));
  return env;
}

function developmentSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * Outside production, where PUBLIC_BASE_URL is unset: the address `npm start` listens on, so
 * `PORT=3310 npm start` serves http://localhost:3310 in problem types, mailed links and /docs. A
 * wildcard HOST (all interfaces) is reached as localhost; a specific one as itself.
 */
function developmentBaseUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  const name = wildcard ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '0.0.0.0';
}

/** An empty variable (`PORT=`) means "not set", so defaults apply instead of a confusing parse error. */
function withoutBlanks(source: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
}
