/**
 * `node -r @swc-node/register bench/passport-strategies.ts`: the cost per call of each way the
 * route guard authenticates, in-process, without HTTP or a database (the API key verifier answers
 * from memory, as its cache does on a hit). Compared with the direct jsonwebtoken call the guards
 * made before passport, with the string secret they gave it, and with a KeyObject.
 */
import { createSecretKey } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import jwt from 'jsonwebtoken';
import { accessTokenClaimsSchema, accessTokenJwtOptions, principalFromClaims } from '../src/common/auth/access-token';
import { ApiKeyVerifier, KeyInspection } from '../src/common/auth/api-key-verifier';
import { AccessTokenStrategy, ApiKeyStrategy } from '../src/common/auth/passport-strategies';
import type { ApiKeyPrincipal } from '../src/common/auth/principal';
import type { AppConfig } from '../src/config/config';

const auth = { jwtSecret: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz', issuer: 'gatehouse', audience: 'gatehouse-api', cookieName: 'gatehouse_auth' };
const config = { auth } as unknown as AppConfig;
const verifyOptions = { algorithms: ['HS256' as const], issuer: auth.issuer, audience: auth.audience };
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);

const principal: ApiKeyPrincipal = {
  kind: 'apiKey',
  apiKeyId: 'key_1',
  userId: 'usr_1',
  role: 'USER',
  status: 'ACTIVE',
  language: 'en',
  scope: 'read-only',
  environment: 'live',
};
class MemoryKeys extends ApiKeyVerifier {
  isApiKey = (bearer: string) => bearer.startsWith('gate_');
  verify = (): Promise<ApiKeyPrincipal> => Promise.resolve(principal);
  inspect = (): Promise<KeyInspection> => Promise.resolve({ outcome: 'VALID', principal });
}

async function measure(label: string, run: () => unknown): Promise<void> {
  for (let i = 0; i < 2_000; i++) await run();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) await run();
  const wall = Number(process.hrtime.bigint() - start) / 1_000 / ITERATIONS;
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${label.padEnd(58)} ${wall.toFixed(1).padStart(7)} µs wall, ${((used.user + used.system) / ITERATIONS).toFixed(1).padStart(7)} µs CPU per call\n`,
  );
}

async function main() {
  const jwtService = new JwtService(accessTokenJwtOptions(auth));
  const now = Math.floor(Date.now() / 1000);
  const token = jwtService.sign({ sub: 'usr_1', sid: 'rtk_1', role: 'USER', status: 'ACTIVE', lang: 'en', locale: 'en', tz: 'UTC', iat: now, exp: now + 3600 });
  const bearer = { headers: { authorization: `Bearer ${token}` }, cookies: {} } as unknown as FastifyRequest;
  const cookie = { headers: {}, cookies: { [auth.cookieName]: token } } as unknown as FastifyRequest;
  const keyRequest = { headers: { authorization: 'Bearer gate_live_0123456789abcdef' }, cookies: {} } as unknown as FastifyRequest;
  const accessTokens = new AccessTokenStrategy(config);
  const apiKeys = new ApiKeyStrategy(new MemoryKeys());
  const keyObject = createSecretKey(Buffer.from(auth.jwtSecret));
  const direct = (secret: string | typeof keyObject) => principalFromClaims(accessTokenClaimsSchema.parse(jwt.verify(token, secret, verifyOptions)));

  process.stdout.write(`${ITERATIONS} calls each, after 2,000 warm-up calls\n`);
  await measure('access token, bearer: passport-jwt strategy (KeyObject)', () => accessTokens.check(bearer));
  await measure('access token, cookie: passport-jwt strategy (KeyObject)', () => accessTokens.check(cookie));
  await measure('before: jsonwebtoken.verify, string secret + claims parse', () => direct(auth.jwtSecret));
  await measure('jsonwebtoken.verify, KeyObject + claims parse', () => direct(keyObject));
  await measure('signing: JwtService.sign (KeyObject)', () => jwtService.sign({ sub: 'usr_1', iat: now, exp: now + 3600 }));
  await measure('API key: passport-custom strategy (verifier from memory)', () => apiKeys.verify('gate_live_0123456789abcdef', keyRequest));
  await measure('before: the verifier called directly (from memory)', () => new MemoryKeys().verify());
}

void main();
