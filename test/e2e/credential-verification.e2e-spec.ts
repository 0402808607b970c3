import jwt from 'jsonwebtoken';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiKeyVerifier } from '../../src/common/auth/api-key-verifier';
import { SessionVerifier } from '../../src/common/auth/session-verifier';
import { ApiKeyUsageRecorder } from '../../src/modules/api-keys/api-key-usage.recorder';
import { ApiKeysRepository } from '../../src/modules/api-keys/api-keys.repository';
import { RefreshTokensRepository } from '../../src/modules/auth/refresh-tokens.repository';
import { registerAndLogin } from '../factories/users';
import { useTestApp } from '../helpers/test-app';
import { freeTierOnConfiguredRateLimit } from '../factories/subscriptions';

/**
 * The rate limiter, the authentication guard and the API-key usage hook each need the caller;
 * each key or token is verified once per request, and they share the answer.
 */
describe('one verification of a credential per request', () => {
  const ctx = useTestApp({ env: { RATE_LIMIT_AUTHENTICATED: '4/60' } });
  beforeAll(() => freeTierOnConfiguredRateLimit(ctx.db));
  let spies: Record<'apiKeyVerify' | 'keyLookup' | 'signatureCheck' | 'sessionVerify' | 'sessionLookup', ReturnType<typeof vi.spyOn>>;

  beforeEach(() => {
    const app = ctx.t.app;
    spies = {
      apiKeyVerify: vi.spyOn(app.get(ApiKeyVerifier), 'verify'),
      keyLookup: vi.spyOn(app.get(ApiKeysRepository), 'findByHash'),
      signatureCheck: vi.spyOn(jwt, 'verify'),
      sessionVerify: vi.spyOn(app.get(SessionVerifier), 'verify'),
      sessionLookup: vi.spyOn(app.get(RefreshTokensRepository), 'findSession'),
    };
  });
  afterEach(() => vi.restoreAllMocks());

  const counts = () => Object.fromEntries(Object.entries(spies).map(([name, spy]) => [name, spy.mock.calls.length]));
  const resetCounts = () => Object.values(spies).forEach((spy) => spy.mockClear());
  const get = (url: string, headers: Record<string, string>) => ctx.t.app.inject({ method: 'GET', url, headers });

  async function newKey() {
    const owner = await registerAndLogin(ctx.t.app);
    const response = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      payload: JSON.stringify({ name: 'probe', scope: 'read-only', environment: 'live' }),
      headers: { authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json' },
    });
    expect(response.statusCode, response.body).toBe(201);
    resetCounts();
    return response.json<{ id: string; key: string }>();
  }

  async function auditStatuses(keyId: string, requestId: unknown) {
    await ctx.t.app.get(ApiKeyUsageRecorder).flush();
    const { rows } = await ctx.db.query<{ status: number }>('SELECT status FROM api_key_audit_log WHERE key_id = $1 AND request_id = $2', [keyId, requestId]);
    return rows.map((row) => row.status);
  }

  it('verifies an API key once (one cache lookup, one database read) for the limiter, the guard and the usage hook', async () => {
    const key = await newKey();
    const response = await get('/v1/users/me', { authorization: `Bearer ${key.key}` });
    expect(response.statusCode, response.body).toBe(200);
    expect(counts()).toMatchObject({ apiKeyVerify: 1, keyLookup: 1, signatureCheck: 0 });
    expect(await auditStatuses(key.id, response.headers['x-request-id'])).toEqual([200]);
  });

  it('verifies a key refused by the rate limiter once, and still records the request against it', async () => {
    const key = await newKey();
    // The key's creation counted against its owner: three more requests fill the limit of 4.
    for (let i = 0; i < 3; i++) expect((await get('/v1/users/me', { authorization: `Bearer ${key.key}` })).statusCode).toBe(200);
    resetCounts();
    const limited = await get('/v1/users/me', { authorization: `Bearer ${key.key}` });
    expect(limited.statusCode).toBe(429);
    expect(counts()).toMatchObject({ apiKeyVerify: 1 });
    expect(await auditStatuses(key.id, limited.headers['x-request-id'])).toEqual([429]);
  });

  it('verifies a key on a public route once, in the usage hook', async () => {
    const key = await newKey();
    const response = await get('/problems/not-found', { authorization: `Bearer ${key.key}` });
    expect(response.statusCode).toBe(200);
    expect(counts()).toMatchObject({ apiKeyVerify: 1 });
    // The hook runs after the answer is sent, and its lookup may still be under way.
    await vi.waitFor(async () => expect(await auditStatuses(key.id, response.headers['x-request-id'])).toEqual([200]));
  });

  it('verifies a refused key once, and records nothing for it', async () => {
    const key = await newKey();
    // Revoked behind the app's back: no request has verified (and cached) the key yet.
    const { rows } = await ctx.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING id', [key.id]);
    expect(rows).toHaveLength(1);
    const response = await get('/v1/users/me', { authorization: `Bearer ${key.key}` });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('INVALID_API_KEY');
    expect(counts()).toMatchObject({ apiKeyVerify: 1, keyLookup: 1 });
    expect(await auditStatuses(key.id, response.headers['x-request-id'])).toEqual([]);
  });

  it.each([
    ['bearer', (token: string) => ({ authorization: `Bearer ${token}` })],
    ['cookie', (token: string) => ({ cookie: `gatehouse_auth=${token}` })],
  ])('checks an access token (%s) once: one signature check, one session lookup', async (_via, headers) => {
    const user = await registerAndLogin(ctx.t.app);
    resetCounts();
    const response = await get('/v1/users/me', headers(user.accessToken));
    expect(response.statusCode, response.body).toBe(200);
    expect(counts()).toMatchObject({ signatureCheck: 1, sessionVerify: 1, sessionLookup: 1, apiKeyVerify: 0 });
  });

  it('checks a bad access token once, and answers its 401', async () => {
    const user = await registerAndLogin(ctx.t.app);
    resetCounts();
    const response = await get('/v1/users/me', { authorization: `Bearer ${user.accessToken.slice(0, -2)}xx` });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('ACCESS_TOKEN_INVALID');
    expect(counts()).toMatchObject({ signatureCheck: 1, sessionVerify: 0 });
  });
});
