/**
 * The bare reference of `npm run bench`: Fastify and `pg`, no Nest, doing the minimal correct work
 * of each benchmarked route on the same database and seed as the app, so that app/reference is
 * what the app's pipeline costs on top of the work itself. Started by bench/run.ts with
 * DATABASE_URL, LICENSE_SIGNING_KEY (the app's) and JWT_SECRET; prints its URL on stdout.
 *
 * - POST /v1/licenses/validate: the app's lookup SQL, the app's status checks, the same Ed25519
 *   compact JWS and response fields; no write (the app's target is to have none on this path).
 * - POST /v1/access/verify: the caller's and the customer's key in one lookup (with owner and
 *   subscription terms), then the app's atomic conditional quota increment.
 * - GET /api/integration/products/getAll: key lookup, quota increment, the products query.
 * - POST /v1/auth/login: user lookup, argon2.verify, an HS256 access token.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import argon2 from 'argon2';
import Fastify from 'fastify';
import { Pool } from 'pg';
import { grossOf, moneyNumber } from '../../src/common/money/money';
import { limitFor, quotaWindow } from '../../src/modules/metering/quota-windows';
import type { PlanTerms } from '../../src/db/schema/subscriptions';

const env = (name: string) => process.env[name] ?? failOn(`${name} is required`);
const pool = new Pool({ connectionString: env('DATABASE_URL'), max: Number(process.env.POOL_MAX ?? 10) });
const privateKey = createPrivateKey(env('LICENSE_SIGNING_KEY'));
const jwtSecret = env('JWT_SECRET');
const apiKeyPrefix = process.env.API_KEY_PREFIX ?? 'gate';
const certificateTtl = 86_400;

const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
const kid = b64url(
  createHash('sha256')
    .update(JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x }))
    .digest(),
);
const jwsHeader = b64url(Buffer.from(JSON.stringify({ alg: 'EdDSA', kid, typ: 'license+jwt' })));

const LICENSE_LOOKUP = `SELECT l.id, l.key_prefix, l.product_id, l.status, l.max_activations, l.expires_at, l.last_validated_at, l.created_at,
       p.geo_scope,
       (SELECT count(*)::int FROM activations a WHERE a.license_id = l.id) AS activation_count,
       (SELECT a.id FROM activations a WHERE a.license_id = l.id AND a.fingerprint = $2) AS activation_id
  FROM licenses l JOIN products p ON p.id = l.product_id WHERE l.key_hash = $1`;
const KEYS_LOOKUP = `SELECT k.key_hash, k.id, k.owner_id, k.scope, k.revoked_at, k.expires_at, k.grace_ends_at, u.role, u.status AS owner_status,
       s.current_period_start, s.current_period_end, s.terms
  FROM api_keys k JOIN users u ON u.id = k.owner_id LEFT JOIN subscriptions s ON s.user_id = k.owner_id
 WHERE k.key_hash = ANY($1)`;
const QUOTA_CONSUME = `INSERT INTO quota_counters (user_id, period_start, api_version, endpoint, window_start, window_end, used)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (user_id, period_start, api_version, endpoint, window_start)
DO UPDATE SET used = quota_counters.used + $7::integer WHERE quota_counters.used + $7::integer <= $8::integer RETURNING used`;
const PRODUCTS = `SELECT * FROM products WHERE active ORDER BY id`;
const USER_BY_EMAIL = `SELECT id, password_hash, role, status FROM users WHERE email = $1`;

interface LicenseLookupRow {
  id: string;
  key_prefix: string;
  product_id: string;
  status: string;
  max_activations: number;
  expires_at: Date | null;
  last_validated_at: Date | null;
  created_at: Date;
  geo_scope: string[] | null;
  activation_count: number;
  activation_id: string | null;
}

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  barcode: string | null;
  price_net_minor: string;
  vat_basis_points: number;
  stock: number | null;
}

const app = Fastify({ logger: false });

app.get('/health/ready', (_request, reply) => reply.send({ status: 'ok' }));

app.post<{ Body: { key?: unknown; fingerprint?: unknown } }>('/v1/licenses/validate', async (request, reply) => {
  const { key, fingerprint } = request.body ?? {};
  if (typeof key !== 'string' || (fingerprint !== undefined && typeof fingerprint !== 'string')) return reply.code(422).send({ code: 'VALIDATION_FAILED' });
  const now = new Date();
  const normalized = key.trim().toUpperCase();
  const { rows } = await pool.query<LicenseLookupRow>({ name: 'license', text: LICENSE_LOOKUP, values: [sha256(normalized), fingerprint ?? ''] });
  const row = rows[0];
  if (!row) return { valid: false, code: 'NOT_FOUND', detail: 'No license has this key.', license: null };
  const expired = Boolean(row.expires_at && row.expires_at <= now);
  const license = {
    id: row.id,
    keyPrefix: row.key_prefix,
    productId: row.product_id,
    status: row.status,
    expired,
    maxActivations: row.max_activations,
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastValidatedAt: row.last_validated_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
  if (row.status !== 'ACTIVE' || expired) return { valid: false, code: expired ? 'EXPIRED' : row.status, detail: 'Not valid.', license };
  if (fingerprint !== undefined && !row.activation_id) return { valid: false, code: 'NOT_ACTIVATED', detail: 'Not activated here.', license };
  const iat = Math.floor(now.getTime() / 1000);
  const claims = {
    sub: row.id,
    product: row.product_id,
    status: row.status,
    licenseExpiresAt: license.expiresAt,
    fingerprint: fingerprint ?? null,
    validatedAt: now.toISOString(),
    ttl: certificateTtl,
    iat,
    exp: iat + certificateTtl,
  };
  const signingInput = `${jwsHeader}.${b64url(Buffer.from(JSON.stringify(claims)))}`;
  const certificate = `${signingInput}.${b64url(sign(null, Buffer.from(signingInput), privateKey))}`;
  return { valid: true, code: 'VALID', detail: 'The license is valid.', license, certificate };
});

interface KeyRow {
  key_hash: string;
  id: string;
  owner_id: string;
  scope: string;
  revoked_at: Date | null;
  expires_at: Date | null;
  grace_ends_at: Date | null;
  role: string;
  owner_status: string;
  current_period_start: Date | null;
  current_period_end: Date | null;
  terms: PlanTerms | null;
}

/** The usable key among `rows` with this hash, or undefined. */
function usable(rows: KeyRow[], hash: string, now: Date): KeyRow | undefined {
  const row = rows.find((candidate) => candidate.key_hash === hash);
  if (!row || row.revoked_at || (row.expires_at && row.expires_at <= now) || (row.grace_ends_at && row.grace_ends_at <= now)) return undefined;
  return row.owner_status === 'SUSPENDED' ? undefined : row;
}

/** The atomic conditional increment of the customer's counter: the count after, or undefined when over. */
async function consume(customer: KeyRow, apiVersion: string, endpoint: string, now: Date) {
  const terms = customer.terms!;
  const limit = limitFor(terms.limits, apiVersion, endpoint);
  if (!limit) return { allowed: false as const, code: 'ENDPOINT_NOT_IN_PLAN' };
  const window = quotaWindow(terms.limitResetPeriod, customer.current_period_start!, customer.current_period_end, now);
  const { rows } = await pool.query<{ used: number }>({
    name: 'consume',
    text: QUOTA_CONSUME,
    values: [customer.owner_id, customer.current_period_start, limit.apiVersion, limit.endpoint, window.start, window.end, 1, limit.maxCalls],
  });
  const used = rows[0]?.used;
  return used === undefined
    ? { allowed: false as const, code: 'QUOTA_EXCEEDED' }
    : { allowed: true as const, quota: { limit: limit.maxCalls, remaining: limit.maxCalls - used, resetsAt: window.end?.toISOString() ?? null } };
}

app.post<{ Body: { key?: unknown; apiVersion?: unknown; endpoint?: unknown } }>('/v1/access/verify', async (request, reply) => {
  const bearer = bearerOf(request.headers.authorization);
  const { key, apiVersion, endpoint } = request.body ?? {};
  if (!bearer) return reply.code(401).send({ code: 'UNAUTHENTICATED' });
  if (typeof key !== 'string' || typeof apiVersion !== 'string' || typeof endpoint !== 'string') return reply.code(422).send({ code: 'VALIDATION_FAILED' });
  const now = new Date();
  const [callerHash, customerHash] = [sha256(bearer), sha256(key)];
  const { rows } = await pool.query<KeyRow>({ name: 'keys', text: KEYS_LOOKUP, values: [[callerHash, customerHash]] });
  const caller = usable(rows, callerHash, now);
  if (!caller) return reply.code(401).send({ code: 'INVALID_API_KEY' });
  // As the app: an ADMIN's `admin` key, or its `verify` key (the scope made for this one route).
  if (caller.role !== 'ADMIN' || (caller.scope !== 'admin' && caller.scope !== 'verify')) return reply.code(403).send({ code: 'FORBIDDEN' });
  const customer = usable(rows, customerHash, now);
  const subject = customer && { userId: customer.owner_id, apiKeyId: customer.id };
  if (!customer?.terms) return { allowed: false, code: 'INVALID_KEY', subject: subject ?? null, quota: null };
  const result = await consume(customer, apiVersion, endpoint, now);
  return result.allowed ? { allowed: true, code: 'ALLOWED', subject, quota: result.quota } : { allowed: false, code: result.code, subject, quota: null };
});

app.get('/api/integration/products/getAll', async (request, reply) => {
  const bearer = bearerOf(request.headers.authorization);
  if (!bearer || !bearer.startsWith(`${apiKeyPrefix}_`)) return reply.code(401).send({ code: 'UNAUTHENTICATED' });
  const now = new Date();
  const hash = sha256(bearer);
  const { rows } = await pool.query<KeyRow>({ name: 'keys', text: KEYS_LOOKUP, values: [[hash]] });
  const customer = usable(rows, hash, now);
  if (!customer?.terms) return reply.code(401).send({ code: 'INVALID_API_KEY' });
  const result = await consume(customer, 'v1', 'integration.products.getAll', now);
  if (!result.allowed) return reply.code(429).send({ code: result.code });
  const products = await pool.query<ProductRow>({ name: 'products', text: PRODUCTS });
  return products.rows.map((p) => ({
    Id: p.id,
    Sku: p.sku,
    Name: p.name,
    Barcode: p.barcode,
    PriceNet: moneyNumber(Number(p.price_net_minor)),
    PriceGross: moneyNumber(grossOf(Number(p.price_net_minor), p.vat_basis_points)),
    Vat: moneyNumber(p.vat_basis_points),
    Stock: p.stock,
  }));
});

app.post<{ Body: { email?: unknown; password?: unknown } }>('/v1/auth/login', async (request, reply) => {
  const { email, password } = request.body ?? {};
  if (typeof email !== 'string' || typeof password !== 'string') return reply.code(422).send({ code: 'VALIDATION_FAILED' });
  const { rows } = await pool.query<{ id: string; password_hash: string; role: string; status: string }>({
    name: 'user',
    text: USER_BY_EMAIL,
    values: [email.trim().toLowerCase()],
  });
  const user = rows[0];
  if (!user || !(await argon2.verify(user.password_hash, password)) || user.status !== 'ACTIVE') {
    return reply.code(401).send({ code: 'INVALID_CREDENTIALS' });
  }
  const iat = Math.floor(Date.now() / 1000);
  const input = `${b64url(Buffer.from('{"alg":"HS256","typ":"JWT"}'))}.${b64url(Buffer.from(JSON.stringify({ sub: user.id, role: user.role, iat, exp: iat + 900 })))}`;
  return { accessToken: `${input}.${b64url(createHmac('sha256', jwtSecret).update(input).digest())}`, requiredAuthenticatorType: null };
});

function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function b64url(buffer: Buffer): string {
  return buffer.toString('base64url');
}

function failOn(message: string): never {
  throw new Error(message);
}

app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' }).then(
  (url) => process.stdout.write(`reference listening on ${url}\n`),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0)),
);
