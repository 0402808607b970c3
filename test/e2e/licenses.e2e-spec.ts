import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { LicenseValidationRecorder } from '../../src/modules/licenses/license-validation.recorder';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { registerAdmin, registerAndLogin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

describe('licenses', () => {
  const ctx = useTestApp({ env: { RATE_LIMIT_LICENSE_VALIDATE: '30/60' } });
  let admin: string;
  let customer: Awaited<ReturnType<typeof registerAndLogin>>;
  let productId: string;
  beforeAll(async () => {
    admin = (await registerAdmin(ctx.t.app, ctx.db)).accessToken;
    customer = await registerAndLogin(ctx.t.app);
    productId = (await insertProduct(ctx.db, { name: 'Desktop app', maxActivations: 3 })).id;
  });

  const call = callerFor(ctx);
  let ipCounter = 0;
  /** Public calls from distinct IPs, so the per-IP limits only bite where a test means them to. */
  const publicPost = (url: string, payload: unknown, ip = `192.0.2.${(ipCounter++ % 200) + 1}`) =>
    ctx.t.app.inject({ method: 'POST', url, payload: JSON.stringify(payload), remoteAddress: ip, headers: { 'content-type': 'application/json' } });

  const grant = (overrides: { expiresAt?: Date | null; maxActivations?: number } = {}) =>
    insertLicense(ctx.db, { productId, userId: customer.user.id, ...overrides });
  const validate = (payload: Record<string, unknown>) => publicPost('/v1/licenses/validate', payload);
  const activate = (key: string, fingerprint: string, ip?: string) => publicPost('/v1/licenses/activate', { key, fingerprint }, ip);

  it('grants a Crockford base32 key shown once and stored only as its hash', async () => {
    const granted = await call('POST', '/v1/licenses', admin, { productId, userId: customer.user.id });
    expect(granted.statusCode, granted.body).toBe(201);
    const license = granted.json<{ id: string; key: string }>();
    expect(license.key).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
    const { rows } = await ctx.db.query('SELECT key_hash, max_activations FROM licenses WHERE id = $1', [license.id]);
    expect(rows[0].max_activations).toBe(3);
    expect(JSON.stringify(rows[0])).not.toContain(license.key);
    expect((await call('GET', `/v1/licenses/${license.id}`, customer.accessToken)).json().key).toBeUndefined();
  });

  it('the public validate and activate answers do not leak data: no buyer, order or activation IP; the owner still sees them', async () => {
    const license = await grant();
    const first = await activate(license.key, 'machine-ip', '198.51.100.23');
    expect(first.statusCode).toBe(201);
    const again = await activate(license.key, 'machine-ip', '203.0.113.99');
    expect(again.statusCode).toBe(200);
    for (const answer of [first.json().activation, again.json().activation]) {
      expect(answer).toMatchObject({ fingerprint: 'machine-ip' });
      expect(answer).not.toHaveProperty('ip');
    }
    expect(again.body).not.toContain('198.51.100.23');

    for (const payload of [
      { key: license.key },
      { key: license.key, fingerprint: 'machine-ip' },
      { key: license.key, productId: 'prd_01jh8x2v3kf6qz9w0c4m5t7r8y' },
    ]) {
      const validation = await validate(payload);
      expect(validation.json().license).toMatchObject({ id: license.id, productId: expect.any(String) });
      expect(validation.json().license).not.toHaveProperty('userId');
      expect(validation.json().license).not.toHaveProperty('orderId');
      expect(validation.body).not.toContain(customer.user.id);
    }

    const owned = (await call('GET', `/v1/licenses/${license.id}`, customer.accessToken)).json();
    expect(owned).toMatchObject({ userId: customer.user.id, orderId: null, activations: [{ fingerprint: 'machine-ip', ip: '198.51.100.23' }] });
    expect((await call('GET', `/v1/licenses/${license.id}`, admin)).json()).toMatchObject({ userId: customer.user.id });
  });

  it('activate, then validate: VALID with a certificate that verifies against the JWKS', async () => {
    // The customer listens to license.validated (created through the API, which this instance hears of at once): the event is written.
    const endpoint = await call('POST', '/v1/webhooks/endpoints', customer.accessToken, {
      url: 'https://hooks.example.com/gatehouse',
      events: ['license.validated'],
    });
    expect(endpoint.statusCode).toBe(201);
    const license = await grant();
    const activated = await activate(license.key, 'machine-1');
    expect(activated.statusCode).toBe(201);
    expect((await activate(license.key.toLowerCase(), 'machine-1')).statusCode).toBe(200);

    const response = await validate({ key: license.key, fingerprint: 'machine-1', productId });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ valid: true, code: 'VALID', detail: 'The license is valid.', license: { id: license.id, status: 'ACTIVE' } });

    const jwks = (await ctx.t.app.inject({ method: 'GET', url: '/v1/licenses/jwks' })).json();
    const { payload, protectedHeader } = await jwtVerify(body.certificate, createLocalJWKSet(jwks));
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload).toMatchObject({ sub: license.id, product: productId, status: 'ACTIVE', fingerprint: 'machine-1', ttl: 30 * 86_400 });
    expect(payload.exp! - payload.iat!).toBe(30 * 86_400);

    // Validations are written in batches, after the answer.
    await ctx.t.app.get(LicenseValidationRecorder).flush();
    const { rows } = await ctx.db.query("SELECT type, payload FROM outbox_messages WHERE payload->>'licenseId' = $1 ORDER BY id", [license.id]);
    expect(rows.map((row: { type: string }) => row.type)).toEqual(['license.activated', 'license.validated']);
    const { rows: stamped } = await ctx.db.query('SELECT last_validated_at IS NOT NULL AS stamped FROM licenses WHERE id = $1', [license.id]);
    expect(stamped[0].stamped).toBe(true);
  });

  it('never issues a certificate that outlives the license', async () => {
    const license = await grant({ expiresAt: new Date(Date.now() + 3_600_000) });
    const { certificate } = (await validate({ key: license.key })).json();
    const jwks = (await ctx.t.app.inject({ method: 'GET', url: '/v1/licenses/jwks' })).json();
    const { payload } = await jwtVerify(certificate, createLocalJWKSet(jwks));
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(3600);
    expect(payload.licenseExpiresAt).toBe(
      new Date(Date.parse((await call('GET', `/v1/licenses/${license.id}`, customer.accessToken)).json().expiresAt)).toISOString(),
    );
  });

  it('produces each validation code from its own case', async () => {
    const unknownKey = 'ABCDE-FGHJK-MNPQR-STVWX-YZ012';
    expect((await validate({ key: unknownKey })).json()).toMatchObject({ valid: false, code: 'NOT_FOUND', license: null });
    expect((await validate({ key: 'not a key at all' })).json().code).toBe('NOT_FOUND');

    const expired = await grant({ expiresAt: new Date(Date.now() - 1000) });
    expect((await validate({ key: expired.key })).json().code).toBe('EXPIRED');

    const suspended = await grant();
    await call('POST', `/v1/licenses/${suspended.id}/suspend`, admin);
    expect((await validate({ key: suspended.key })).json().code).toBe('SUSPENDED');

    const revoked = await grant();
    await call('POST', `/v1/licenses/${revoked.id}/revoke`, admin);
    const revokedAnswer = (await validate({ key: revoked.key })).json();
    expect(revokedAnswer).toMatchObject({ valid: false, code: 'REVOKED' });
    expect(revokedAnswer.certificate).toBeUndefined();

    const fresh = await grant();
    expect((await validate({ key: fresh.key, fingerprint: 'any' })).json().code).toBe('NO_ACTIVATION');
    await activate(fresh.key, 'machine-a');
    expect((await validate({ key: fresh.key, fingerprint: 'machine-b' })).json().code).toBe('FINGERPRINT_SCOPE_MISMATCH');
    expect((await validate({ key: fresh.key, productId: 'prd_01jh8x2v3kf6qz9w0c4m5t7r8y' })).json().code).toBe('PRODUCT_SCOPE_MISMATCH');
    expect((await validate({ key: fresh.key })).json().code).toBe('VALID');
  });

  it('README: without a fingerprint activation limits do not apply; with one the machine must be activated', async () => {
    const license = await grant({ maxActivations: 1 });
    const activations = async () => (await ctx.db.query('SELECT fingerprint FROM activations WHERE license_id = $1', [license.id])).rows;

    // No machine activated yet: valid without a fingerprint, NO_ACTIVATION with one.
    const unscoped = (await validate({ key: license.key })).json();
    expect(unscoped).toMatchObject({ valid: true, code: 'VALID' });
    expect(decodeJwt(unscoped.certificate).fingerprint).toBeNull();
    expect((await validate({ key: license.key, fingerprint: 'machine-a' })).json()).toMatchObject({ valid: false, code: 'NO_ACTIVATION' });

    // The one activation allowed is taken; a second machine cannot activate...
    expect((await activate(license.key, 'machine-a')).statusCode).toBe(201);
    const full = await activate(license.key, 'machine-b');
    expect([full.statusCode, full.json().code]).toEqual([422, 'TOO_MANY_ACTIVATIONS']);
    // ...and validating as that machine fails, but validating with no fingerprint still passes.
    expect((await validate({ key: license.key, fingerprint: 'machine-b' })).json()).toMatchObject({ valid: false, code: 'FINGERPRINT_SCOPE_MISMATCH' });
    expect((await validate({ key: license.key })).json()).toMatchObject({ valid: true, code: 'VALID' });
    const scoped = (await validate({ key: license.key, fingerprint: 'machine-a' })).json();
    expect(scoped).toMatchObject({ valid: true, code: 'VALID' });
    expect(decodeJwt(scoped.certificate).fingerprint).toBe('machine-a');
    // Validation never activates a machine, with or without a fingerprint.
    expect(await activations()).toEqual([{ fingerprint: 'machine-a' }]);
  });

  it('activates exactly maxActivations of 50 concurrent machines', async () => {
    const license = await grant();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => activate(license.key, `race-${i}`)));
    const statuses = results.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status === 422)).toHaveLength(47);
    expect(results.find((response) => response.statusCode === 422)!.json().code).toBe('TOO_MANY_ACTIVATIONS');
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM activations WHERE license_id = $1', [license.id]);
    expect(rows[0].n).toBe(3);
  });

  it('announces suspend, revoke and deactivate in the outbox once each; a reinstatement or a repeat announces nothing', async () => {
    const license = await grant();
    const events = async () =>
      (
        await ctx.db.query(
          "SELECT type, payload FROM outbox_messages WHERE payload->>'licenseId' = $1 AND type LIKE 'license.%' AND type <> 'license.validated' ORDER BY created_at, id",
          [license.id],
        )
      ).rows;
    await call('POST', `/v1/licenses/${license.id}/suspend`, admin);
    await call('POST', `/v1/licenses/${license.id}/suspend`, admin);
    await call('POST', `/v1/licenses/${license.id}/reinstate`, admin);
    expect(await activate(license.key, 'desk')).toMatchObject({ statusCode: 201 });
    expect((await publicPost('/v1/licenses/deactivate', { key: license.key, fingerprint: 'desk' })).statusCode).toBe(204);
    expect((await publicPost('/v1/licenses/deactivate', { key: license.key, fingerprint: 'desk' })).statusCode).toBe(204);
    await call('POST', `/v1/licenses/${license.id}/revoke`, admin);
    const ids = { licenseId: license.id, productId: expect.any(String), userId: expect.any(String) };
    expect(await events()).toEqual([
      { type: 'license.suspended', payload: { ...ids, reason: 'ADMIN' } },
      { type: 'license.activated', payload: expect.objectContaining({ licenseId: license.id, fingerprint: 'desk' }) },
      { type: 'license.deactivated', payload: { ...ids, fingerprint: 'desk' } },
      { type: 'license.revoked', payload: { ...ids, reason: 'ADMIN' } },
    ]);
  });

  it('gives one activation to a same-machine race', async () => {
    const license = await grant();
    const results = await Promise.all(Array.from({ length: 10 }, () => activate(license.key, 'same-machine')));
    expect(results.map((response) => response.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM activations WHERE license_id = $1', [license.id]);
    expect(rows[0].n).toBe(1);
  });

  it('refuses to activate an invalid license with 422 and its validation code, and deactivation frees a seat', async () => {
    const revoked = await grant({ maxActivations: 1 });
    await call('POST', `/v1/licenses/${revoked.id}/revoke`, admin);
    const refused = await activate(revoked.key, 'm');
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('REVOKED');
    const missing = await activate('ABCDE-FGHJK-MNPQR-STVWX-YZ012', 'm');
    expect(missing.statusCode).toBe(422);
    expect(missing.json().code).toBe('LICENSE_NOT_FOUND');
    const malformed = await activate('not a key at all', 'm');
    expect(malformed.statusCode).toBe(422);
    expect(malformed.json().code).toBe('LICENSE_NOT_FOUND');

    const single = await grant({ maxActivations: 1 });
    expect((await activate(single.key, 'first')).statusCode).toBe(201);
    expect((await activate(single.key, 'second')).statusCode).toBe(422);
    expect((await publicPost('/v1/licenses/deactivate', { key: single.key, fingerprint: 'first' })).statusCode).toBe(204);
    expect((await activate(single.key, 'second')).statusCode).toBe(201);
  });

  it("shows a customer their licenses with activations, hides other users' (404), and keeps management for ADMINs", async () => {
    const license = await grant();
    await activate(license.key, 'laptop');
    const mine = await call('GET', `/v1/licenses/${license.id}`, customer.accessToken);
    expect(mine.json().activations.map((activation: { fingerprint: string }) => activation.fingerprint)).toEqual(['laptop']);
    const stranger = await registerAndLogin(ctx.t.app);
    expect((await call('GET', `/v1/licenses/${license.id}`, stranger.accessToken)).statusCode).toBe(404);
    expect((await call('GET', '/v1/licenses', stranger.accessToken)).json().items).toEqual([]);
    expect((await call('POST', `/v1/licenses/${license.id}/revoke`, customer.accessToken)).statusCode).toBe(403);
    const patched = await call('PATCH', `/v1/licenses/${license.id}`, admin, { maxActivations: 5 });
    expect(patched.json().maxActivations).toBe(5);
  });

  it('limits validation to 30 a minute per IP: request 31 is 429 with the headers', async () => {
    const license = await grant();
    const ip = '203.0.113.77';
    for (let i = 0; i < 30; i++) expect((await publicPost('/v1/licenses/validate', { key: license.key }, ip)).statusCode).toBe(200);
    const limited = await publicPost('/v1/licenses/validate', { key: license.key }, ip);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.headers['x-ratelimit-limit']).toBe('30');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
  });
});
