import { isIP } from 'node:net';
import { z } from 'zod';

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
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .default('http://localhost:3000')
    .transform((value) => value.replace(/\/+$/, '')),
  CORS_ORIGINS: list(origin),
  TRUST_PROXY: list(proxyAddress),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(9_000),

  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_POSTGRES_PORT: port.default(0),
});

export type Env = z.output<typeof envSchema>;
