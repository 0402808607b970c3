import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { encryptionKeyEnv } from './data-encryption.config';
import { OIDC_PROVIDER_NAME } from './oidc.config';

const list = (item: z.ZodType<string, string>) =>
  z
    .string()
    .default('')
    .transform((raw) =>
      raw
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.origin === value.replace(/\/$/, '') && (url.protocol === 'http:' || url.protocol === 'https:');
  } catch {
    return false;
  }
}, 'must be an origin such as https://app.example.com (scheme, host and optional port, no path)');

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP, a CIDR, or one of proxy-addr's keywords; these are the shapes Fastify's trustProxy accepts. */
const proxyAddress = z.string().refine((value) => {
  if (PROXY_KEYWORDS.has(value)) return true;
  const [ip, prefix, ...rest] = value.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}, 'must be an IP address, a CIDR such as 10.0.0.0/8, or loopback/linklocal/uniquelocal');

/** `1.1.1.1`, `1.1.1.1:53`, `2606:4700::1111` or `[2606:4700::1111]:53`: a DNS server, as dns.Resolver#setServers takes it. */
const dnsServer = z.string().refine((value) => {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : isIP(value) === 6 ? [value, undefined] : value.split(':');
  return isIP(host ?? '') !== 0 && (port === undefined || (/^\d{1,5}$/.test(port) && Number(port) > 0 && Number(port) < 65536));
}, 'must be an IP address with an optional port, such as 1.1.1.1, 1.1.1.1:53 or [2606:4700::1111]:53');

/** `900`, `15m`, `24h`, `30d`: a duration, parsed to seconds. */
const duration = z
  .string()
  .regex(/^\d+[smhd]?$/, 'must be a duration such as 900, 15m, 24h or 30d')
  .transform((value) => {
    const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
    const unit = /[smhd]$/.test(value) ? value.slice(-1) : 's';
    return Number.parseInt(value, 10) * (units[unit] ?? 1);
  })
  .pipe(z.number().int().min(1));

/** `10/900`: at most 10 events per 900 seconds. */
const rateLimit = z
  .string()
  .regex(/^\d+\/\d+$/, 'must be <count>/<seconds>, e.g. 10/900')
  .transform((value) => {
    const [count, seconds] = value.split('/').map(Number) as [number, number];
    return { count, windowSeconds: seconds };
  })
  .pipe(z.object({ count: z.number().int().min(1), windowSeconds: z.number().int().min(1) }));

const bool = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const port = z.coerce.number().int().min(0).max(65535);

const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// connection string' });

/**
 * The one description of the process environment. Each key is an environment variable;
 * `.env.example` documents them in the same order.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset outside production: http://localhost:<PORT>, or http://<HOST>:<PORT> for a specific HOST (config.ts). */
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
  CORS_ORIGINS: list(origin),
  TRUST_PROXY: list(proxyAddress),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(9_000),
  SHUTDOWN_REQUESTS_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(3_000),
  SHUTDOWN_TASKS_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  SHUTDOWN_FLUSH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_500),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  HTTP_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),

  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(4_000),
  DATABASE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(50).max(3_600_000).default(3_000),
  /** Unset: DATABASE_STATEMENT_TIMEOUT_MS + 1 s (config.ts). */
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(200).max(3_601_000).optional(),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_POSTGRES_PORT: port.default(0),

  JWT_SECRET: z
    .string()
    .refine((value) => Buffer.byteLength(value) >= 32, 'must be at least 32 bytes')
    .optional(),
  JWT_ISSUER: z.string().min(1).default('gatehouse'),
  JWT_AUDIENCE: z.string().min(1).default('gatehouse-api'),
  ACCESS_TOKEN_TTL: duration.default(900),
  REFRESH_TOKEN_TTL: duration.default(30 * 86_400),
  REFRESH_TOKEN_REUSE_INTERVAL: duration.default(10),
  AUTH_COOKIE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9_-]')
    .default('gatehouse_auth'),
  /** Unset: true in production and whenever PUBLIC_BASE_URL is https; false outside production over http (config.ts). */
  COOKIE_SECURE: bool.optional(),
  LOGIN_FAILURE_LIMIT: rateLimit.default({ count: 10, windowSeconds: 900 }),
  LOGIN_SLOWDOWN_MAX_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  // One CPU stays with the event loop (and a local database); libuv runs 4 at most anyway.
  PASSWORD_HASH_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(() => Math.min(4, Math.max(1, availableParallelism() - 1))),
  PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(16),
  PASSWORD_RESET_TTL: duration.default(3600),
  REQUIRE_2FA_FOR_ADMINS: bool.default(false),
  TOTP_ISSUER: z.string().min(1).max(64).default('Gatehouse'),
  ALLOWED_LINK_ORIGINS: list(origin),
  /** Unset: PUBLIC_BASE_URL/activate and PUBLIC_BASE_URL/reset-password, the pages Gatehouse serves (config.ts). */
  ACTIVATION_PAGE_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  PASSWORD_RESET_PAGE_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  OIDC_PROVIDERS: list(z.string().regex(OIDC_PROVIDER_NAME, 'must be 1-32 of [a-z0-9_], starting with a letter')).refine(
    (names) => new Set(names).size === names.length,
    'must not name a provider twice',
  ),
  OIDC_ALLOW_HTTP_ISSUERS: bool.default(false),
  OIDC_TIMEOUT: duration.pipe(z.number().max(60)).default(5),

  EMAIL_TOKEN_TTL: duration.default(86_400),
  PHONE_SENDS_PER_NUMBER_PER_DAY: z.coerce.number().int().min(1).max(1000).default(5),

  ADMIN_EMAIL: z.email().max(254).optional(),
  ADMIN_PASSWORD: z.string().min(8).max(128).optional(),

  SMS_PROVIDER: z.enum(['log', 'twilio']).default('log'),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC + 32 hex digits)')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  TWILIO_FROM: z.string().min(3).max(32).optional(),
  TWILIO_API_BASE: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).default('https://api.twilio.com'),

  API_KEY_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9]{1,15}$/, 'must be 2-16 lowercase letters or digits, starting with a letter')
    .default('gate'),
  API_KEY_ROTATION_GRACE: duration.default(86_400),
  AUDIT_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  API_KEYS_MAX_PER_USER: z.coerce.number().int().min(1).max(100_000).default(100),

  LICENSE_SIGNING_KEY: z
    .string()
    .refine((value) => value.includes('BEGIN PRIVATE KEY'), 'must be an Ed25519 private key as a PKCS8 PEM')
    .optional(),
  LICENSE_SIGNING_KEY_FILE: z.string().min(1).default('.data/license-signing-key.pem'),
  LICENSE_CERT_TTL: duration.default(30 * 86_400),
  LICENSE_VALIDATION_FLUSH_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),

  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_… or sk_live_…)')
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\w+$/, 'must be a Stripe webhook signing secret (whsec_…)')
    .optional(),
  STRIPE_API_BASE: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  /** At most 30 s: a subscription checkout's claim lease (60 s) must outlast its holder's Stripe calls. */
  STRIPE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5_000),
  STRIPE_MAX_RETRIES: z.coerce.number().int().min(0).max(5).default(1),
  SUBSCRIPTION_GRACE_DAYS: z.coerce.number().int().min(0).max(60).default(3),
  CHECKOUT_MAX_UNITS_PER_LINE: z.coerce.number().int().min(1).max(100_000).default(1000),
  CHECKOUT_MAX_UNITS_PER_ORDER: z.coerce.number().int().min(1).max(100_000).default(10_000),
  OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),

  DATA_ENCRYPTION_KEY: encryptionKeyEnv.optional(),
  DATA_ENCRYPTION_PREVIOUS_KEYS: list(encryptionKeyEnv),
  DATA_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),
  /** Deprecated names of DATA_ENCRYPTION_KEY and DATA_ENCRYPTION_KEY_FILE. */
  WEBHOOK_SECRET_KEY: encryptionKeyEnv.optional(),
  WEBHOOK_SECRET_KEY_FILE: z.string().min(1).optional(),
  WEBHOOKS_ALLOW_INSECURE: bool.default(false),
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  /** The one value that lets production start with WEBHOOKS_ALLOW_INSECURE or WEBHOOKS_ALLOW_PRIVATE_NETWORKS. */
  WEBHOOKS_UNSAFE_IN_PRODUCTION: z.literal('i-understand', { error: 'must be exactly "i-understand", or unset' }).optional(),
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  WEBHOOK_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  WEBHOOK_DISPATCH: bool.default(true),
  WEBHOOK_DNS_SERVERS: list(dnsServer),
  WEBHOOK_DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(100),
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: z.coerce.number().int().min(1).max(100).default(4),
  WEBHOOK_ENDPOINTS_MAX_PER_USER: z.coerce.number().int().min(1).max(10_000).default(20),

  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_KEY_PREFIX: z.string().max(100).default('gatehouse:'),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1_000),
  RATE_LIMIT_PUBLIC: rateLimit.default({ count: 60, windowSeconds: 60 }),
  RATE_LIMIT_AUTHENTICATED: rateLimit.default({ count: 100, windowSeconds: 60 }),
  RATE_LIMIT_LOGIN: rateLimit.default({ count: 10, windowSeconds: 60 }),
  RATE_LIMIT_REGISTER: rateLimit.default({ count: 5, windowSeconds: 60 }),
  RATE_LIMIT_TWO_FACTOR: rateLimit.default({ count: 10, windowSeconds: 60 }),
  RATE_LIMIT_TWO_FACTOR_CHALLENGE: rateLimit.default({ count: 10, windowSeconds: 300 }),
  RATE_LIMIT_PASSWORD_RESET_REQUEST: rateLimit.default({ count: 5, windowSeconds: 60 }),
  RATE_LIMIT_ACCOUNT_ACTIVATE: rateLimit.default({ count: 10, windowSeconds: 60 }),
  RATE_LIMIT_LICENSE_VALIDATE: rateLimit.default({ count: 30, windowSeconds: 60 }),
  RATE_LIMIT_LICENSE_ACTIVATE: rateLimit.default({ count: 10, windowSeconds: 60 }),
  RATE_LIMIT_LICENSE_DEACTIVATE: rateLimit.default({ count: 10, windowSeconds: 60 }),
  // Per vendor server address: it calls once per request its own API receives.
  RATE_LIMIT_ACCESS_VERIFY: rateLimit.default({ count: 600_000, windowSeconds: 60 }),

  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: z.string().min(3).max(200).default('Gatehouse <no-reply@localhost>'),
  SMTP_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(3_000),
  SMTP_GREETING_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(3_000),
  SMTP_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
  SMTP_SEND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  MAIL_SEND: bool.default(true),
  MAIL_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  MAIL_SEND_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  MAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(30),
  MAIL_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  MAIL_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
  MAIL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  MAIL_MAX_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(1).max(1_000).default(5),
});

export type Env = z.output<typeof envSchema>;
