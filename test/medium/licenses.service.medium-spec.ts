import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { LicenseValidationRecorder } from '../../src/modules/licenses/license-validation.recorder';
import { LicensesService } from '../../src/modules/licenses/licenses.service';
import { WebhookEndpointsService } from '../../src/modules/webhooks/webhook-endpoints.service';
import { insertActivation, insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { insertUser } from '../factories/users';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { domainError, userPrincipal } from '../helpers/principals';
import { useTestApp } from '../helpers/test-app';

/** Medium tier: the real LicensesService and repositories on this file's database, called without HTTP. */
describe('LicensesService (medium)', () => {
  const ctx = useTestApp();
  const service = () => ctx.t.app.get(LicensesService);
  const recorder = () => ctx.t.app.get(LicenseValidationRecorder);
  const rows = async (sql: string, params: unknown[]) => (await ctx.db.query(sql, params)).rows;
  const activationsOf = (licenseId: string) => rows('SELECT fingerprint, ip FROM activations WHERE license_id = $1 ORDER BY fingerprint', [licenseId]);
  const outboxOf = (licenseId: string) => rows("SELECT type, payload FROM outbox_messages WHERE payload->>'licenseId' = $1 ORDER BY id", [licenseId]);

  it('activate: of 20 parallel machines exactly maxActivations get a seat, and only their rows and events are written', async () => {
    const license = await insertLicense(ctx.db, { maxActivations: 3 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => service().activate({ key: license.key, fingerprint: `m-${String(i).padStart(2, '0')}` }, '198.51.100.1')),
    );

    const seated = results.filter((result) => result.status === 'fulfilled');
    expect(seated).toHaveLength(3);
    for (const refused of results.filter((result) => result.status === 'rejected')) expect(refused.reason).toMatchObject({ code: 'TOO_MANY_ACTIVATIONS' });
    const fingerprints = seated.map((result) => result.value.activation.fingerprint).sort();
    expect((await activationsOf(license.id)).map((row) => row.fingerprint)).toEqual(fingerprints);
    const events = await outboxOf(license.id);
    expect(events.map((event) => event.type)).toEqual(['license.activated', 'license.activated', 'license.activated']);
    expect(events.map((event) => event.payload.fingerprint).sort()).toEqual(fingerprints);
  });

  it('activate: the same machine racing itself gets one seat, one row and one event; the others see it as existing', async () => {
    const license = await insertLicense(ctx.db, { maxActivations: 2 });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => service().activate({ key: license.key.toLowerCase(), fingerprint: 'same' }, '198.51.100.2')),
    );

    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.activation.id)).size).toBe(1);
    expect(await activationsOf(license.id)).toEqual([{ fingerprint: 'same', ip: '198.51.100.2' }]);
    expect(await outboxOf(license.id)).toHaveLength(1);
  });

  it('activate: a revoked, suspended or expired license, or an unknown key, is refused with 4xx and writes nothing', async () => {
    const revoked = await insertLicense(ctx.db, { status: 'REVOKED' });
    const suspended = await insertLicense(ctx.db, { status: 'SUSPENDED' });
    const expired = await insertLicense(ctx.db, { expiresAt: new Date(Date.now() - 1000) });
    for (const [license, code] of [
      [revoked, 'REVOKED'],
      [suspended, 'SUSPENDED'],
      [expired, 'EXPIRED'],
    ] as const) {
      expect(await domainError(service().activate({ key: license.key, fingerprint: 'm' }, '198.51.100.3'))).toMatchObject({ code, status: 422 });
      expect(await activationsOf(license.id)).toEqual([]);
      expect(await outboxOf(license.id)).toEqual([]);
    }
    const before = await rows('SELECT count(*)::int AS n FROM activations', []);
    expect((await domainError(service().activate({ key: 'ABCDE-FGHJK-MNPQR-STVWX-YZ012', fingerprint: 'm' }, '198.51.100.3'))).status).toBe(422);
    expect(await rows('SELECT count(*)::int AS n FROM activations', [])).toEqual(before);
  });

  it('deactivate frees the seat: the row goes, and another machine gets in', async () => {
    const license = await insertLicense(ctx.db, { maxActivations: 1 });
    await insertActivation(ctx.db, { licenseId: license.id, fingerprint: 'old-laptop' });
    expect(await domainError(service().activate({ key: license.key, fingerprint: 'new-laptop' }, '198.51.100.4'))).toMatchObject({
      code: 'TOO_MANY_ACTIVATIONS',
    });

    await service().deactivate(license.key, 'old-laptop');
    expect(await activationsOf(license.id)).toEqual([]);
    expect((await service().activate({ key: license.key, fingerprint: 'new-laptop' }, '198.51.100.4')).created).toBe(true);
    expect((await activationsOf(license.id)).map((row) => row.fingerprint)).toEqual(['new-laptop']);
  });

  it('validate: VALID stamps the license and the activation and appends license.validated; a mismatch stamps and appends nothing', async () => {
    const license = await insertLicense(ctx.db);
    const activation = await insertActivation(ctx.db, { licenseId: license.id, fingerprint: 'desk' });
    await insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId: license.userId, events: ['license.validated'] });

    const mismatch = await service().validate({ key: license.key, fingerprint: 'elsewhere' }, 'en', '198.51.100.1');
    expect(mismatch).toMatchObject({ valid: false, code: 'FINGERPRINT_SCOPE_MISMATCH' });
    await recorder().flush();
    expect(await rows('SELECT last_validated_at FROM licenses WHERE id = $1', [license.id])).toEqual([{ last_validated_at: null }]);
    expect(await outboxOf(license.id)).toEqual([]);

    const valid = await service().validate({ key: license.key, fingerprint: 'desk' }, 'en', '198.51.100.1');
    expect(valid).toMatchObject({ valid: true, code: 'VALID', certificate: expect.any(String) });
    // Written in the next batch, not on the request's path.
    expect(await outboxOf(license.id)).toEqual([]);
    await recorder().flush();
    const [stamped] = await rows('SELECT last_validated_at FROM licenses WHERE id = $1', [license.id]);
    const [activationStamp] = await rows('SELECT last_validated_at FROM activations WHERE id = $1', [activation.id]);
    expect(stamped.last_validated_at).toBeInstanceOf(Date);
    expect(activationStamp.last_validated_at).toEqual(stamped.last_validated_at);
    expect(await outboxOf(license.id)).toEqual([
      { type: 'license.validated', payload: expect.objectContaining({ licenseId: license.id, fingerprint: 'desk' }) },
    ]);
  });

  it('validate: with no endpoint listening, VALID stamps the license but writes no license.validated event; one created later hears the next', async () => {
    const license = await insertLicense(ctx.db);
    await service().validate({ key: license.key }, 'en', '198.51.100.1');
    await recorder().flush();
    expect(await rows('SELECT last_validated_at IS NOT NULL AS stamped FROM licenses WHERE id = $1', [license.id])).toEqual([{ stamped: true }]);
    expect(await outboxOf(license.id)).toEqual([]);

    // Created through the service (as the API does), which drops this instance's cached answer at once.
    await ctx.t.app.get(WebhookEndpointsService).create(userPrincipal({ id: license.userId, role: 'USER', status: 'ACTIVE' }), {
      url: 'https://hooks.example.com/gatehouse',
      events: ['license.validated'],
      scope: 'own',
    });
    await service().validate({ key: license.key }, 'en', '198.51.100.1');
    await recorder().flush();
    expect((await outboxOf(license.id)).map((event) => event.type)).toEqual(['license.validated']);
  });

  it('validate: a batch never moves a validation time back (a later stamp, from another instance, stays)', async () => {
    const license = await insertLicense(ctx.db);
    const later = new Date(Date.now() + 60_000);
    await ctx.db.query('UPDATE licenses SET last_validated_at = $2 WHERE id = $1', [license.id, later]);
    await service().validate({ key: license.key }, 'en', '198.51.100.1');
    await recorder().flush();
    expect(await rows('SELECT last_validated_at FROM licenses WHERE id = $1', [license.id])).toEqual([{ last_validated_at: later }]);
  });

  it("grant follows the product's policy and stores only the key's hash; an unknown user is a field error and writes no row", async () => {
    const product = await insertProduct(ctx.db, { licenseDurationDays: 30, maxActivations: 4 });
    const user = await insertUser(ctx.db);
    const granted = await service().grant({ productId: product.id, userId: user.id });

    const [row] = await rows('SELECT key_hash, key_prefix, max_activations, expires_at, user_id FROM licenses WHERE id = $1', [granted.id]);
    expect(row).toMatchObject({ max_activations: 4, user_id: user.id, key_prefix: granted.key.slice(0, 5) });
    expect(JSON.stringify(row)).not.toContain(granted.key);
    expect(Math.abs(row.expires_at.getTime() - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);

    const before = await rows('SELECT count(*)::int AS n FROM licenses WHERE product_id = $1', [product.id]);
    const refused = await domainError(service().grant({ productId: product.id, userId: 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y' }));
    expect(refused).toMatchObject({ code: 'VALIDATION_FAILED', status: 422 });
    expect(refused.options.errors?.map((error) => error.field)).toEqual(['userId']);
    expect(await rows('SELECT count(*)::int AS n FROM licenses WHERE product_id = $1', [product.id])).toEqual(before);
  });

  it("a customer lists and reads only their own licenses; another's is not found", async () => {
    const owner = await insertUser(ctx.db);
    const stranger = await insertUser(ctx.db);
    const mine = await insertLicense(ctx.db, { userId: owner.id });
    await insertActivation(ctx.db, { licenseId: mine.id, fingerprint: 'laptop' });
    await insertLicense(ctx.db, { userId: stranger.id });

    const listed = await service().list(userPrincipal(owner), undefined, 50);
    expect(listed.items.map((item) => item.id)).toEqual([mine.id]);
    expect((await service().get(userPrincipal(owner), mine.id)).activations.map((activation) => activation.fingerprint)).toEqual(['laptop']);
    expect(await domainError(service().get(userPrincipal(stranger), mine.id))).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });
});
