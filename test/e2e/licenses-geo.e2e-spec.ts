import { beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { GeoScope } from '../../src/common/geo/geo-scopes';
import { LicenseValidationRecorder } from '../../src/modules/licenses/license-validation.recorder';
import { insertLicense } from '../factories/licenses';
import { insertProduct } from '../factories/products';
import { insertUser } from '../factories/users';
import { insertWebhookEndpoint } from '../factories/webhook-endpoints';
import { GEO_ADDRESSES } from '../fixtures/geo-addresses';
import { useTestApp } from '../helpers/test-app';

const PROXY = '10.0.0.5';
const { istanbul, izmir, germany, japan, unitedStates, istanbulIpv6 } = GEO_ADDRESSES;

describe('license validate and the product geoScope, behind a trusted proxy', () => {
  const ctx = useTestApp({ env: { TRUST_PROXY: '10.0.0.0/8' } });
  let userId: string;
  beforeAll(async () => {
    userId = (await insertUser(ctx.db)).id;
    // Someone listens, so a recorded validation writes its license.validated event.
    await insertWebhookEndpoint(ctx.db, ctx.t.app.get(SecretBox), { ownerId: userId, events: ['license.validated'] });
  });

  const licenseFor = async (geoScope: GeoScope[] | null, overrides: { status?: 'REVOKED' } = {}) =>
    insertLicense(ctx.db, { userId, productId: (await insertProduct(ctx.db, { geoScope })).id, ...overrides });

  /** A validate call as the proxy forwards it: `forwardedFor` is the X-Forwarded-For it sends, `peer` the socket address. */
  const validate = (payload: Record<string, unknown>, forwardedFor: string | undefined, { peer = PROXY, lang = 'en' } = {}) =>
    ctx.t.app.inject({
      method: 'POST',
      url: '/v1/licenses/validate',
      payload: JSON.stringify(payload),
      remoteAddress: peer,
      headers: { 'content-type': 'application/json', 'accept-language': lang, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    });

  const validationsWritten = async (licenseId: string) => {
    await ctx.t.app.get(LicenseValidationRecorder).flush();
    const outbox = await ctx.db.query("SELECT 1 FROM outbox_messages WHERE type = 'license.validated' AND payload->>'licenseId' = $1", [licenseId]);
    const stamped = await ctx.db.query('SELECT 1 FROM licenses WHERE id = $1 AND last_validated_at IS NOT NULL', [licenseId]);
    return { outbox: outbox.rowCount, stamped: stamped.rowCount };
  };

  it('a product scoped to TURKEY: a German address gets GEO_RESTRICTED naming only the country, and nothing is recorded', async () => {
    const license = await licenseFor(['TURKEY']);
    const response = await validate({ key: license.key }, germany.ip);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      valid: false,
      code: 'GEO_RESTRICTED',
      detail: 'The license cannot be used from this location (DE).',
      license: expect.objectContaining({ id: license.id, status: 'ACTIVE' }),
    });
    expect(response.body).not.toContain(germany.ip);
    expect(await validationsWritten(license.id)).toEqual({ outbox: 0, stamped: 0 });

    const turkish = await validate({ key: license.key }, germany.ip, { lang: 'tr' });
    expect(turkish.json().detail).toBe('Lisans bu konumdan (DE) kullanılamaz.');
  });

  it('a product scoped to TURKEY: an Istanbul address, over IPv4 or IPv6, is VALID with a certificate', async () => {
    const license = await licenseFor(['TURKEY']);
    for (const ip of [istanbul.ip, istanbulIpv6.ip]) {
      const response = await validate({ key: license.key }, ip);
      expect(response.json(), ip).toMatchObject({ valid: true, code: 'VALID', certificate: expect.any(String) });
    }
    expect(await validationsWritten(license.id)).toEqual({ outbox: 2, stamped: 1 });
  });

  it('a product without a geoScope validates from anywhere, unknown places included', async () => {
    const license = await licenseFor(null);
    for (const ip of [germany.ip, istanbul.ip, japan.ip, unitedStates.ip]) expect((await validate({ key: license.key }, ip)).json().code, ip).toBe('VALID');
    expect((await validate({ key: license.key }, undefined)).json().code).toBe('VALID');
  });

  it('uses the right-most untrusted X-Forwarded-For hop: a caller cannot claim Istanbul by adding it to the header', async () => {
    const license = await licenseFor(['TURKEY']);
    expect((await validate({ key: license.key }, `${istanbul.ip}, ${germany.ip}`)).json().code).toBe('GEO_RESTRICTED');
    // From a peer that is not a trusted proxy the header is ignored, and the peer is the caller.
    expect((await validate({ key: license.key }, istanbul.ip, { peer: germany.ip })).json().code).toBe('GEO_RESTRICTED');
    expect((await validate({ key: license.key }, germany.ip, { peer: istanbul.ip })).json().code).toBe('VALID');
  });

  it('a region scope takes its provinces only; an address the data cannot place passes ALL and nothing else', async () => {
    const marmara = await licenseFor(['MARMARA']);
    expect((await validate({ key: marmara.key }, istanbul.ip)).json().code).toBe('VALID');
    const fromIzmir = await validate({ key: marmara.key }, izmir.ip);
    expect(fromIzmir.json()).toMatchObject({ code: 'GEO_RESTRICTED', detail: 'The license cannot be used from this location (TR).' });

    // No X-Forwarded-For: the caller is the proxy itself, a private address.
    const unplaced = await validate({ key: marmara.key }, undefined);
    expect(unplaced.json()).toMatchObject({ code: 'GEO_RESTRICTED', detail: 'The license cannot be used from an address whose location is unknown.' });
    expect(unplaced.body).not.toContain(PROXY);
    const everywhere = await licenseFor(['ALL']);
    expect((await validate({ key: everywhere.key }, undefined)).json().code).toBe('VALID');
  });

  it("comes after the license's own state and before the machine and product checks", async () => {
    const revoked = await licenseFor(['TURKEY'], { status: 'REVOKED' });
    expect((await validate({ key: revoked.key }, germany.ip)).json().code).toBe('REVOKED');
    const license = await licenseFor(['TURKEY']);
    expect((await validate({ key: license.key, fingerprint: 'never-activated' }, germany.ip)).json().code).toBe('GEO_RESTRICTED');
    expect((await validate({ key: license.key, fingerprint: 'never-activated' }, istanbul.ip)).json().code).toBe('NO_ACTIVATION');
    expect((await validate({ key: license.key, productId: 'prd_01jh8x2v3kf6qz9w0c4m5t7r8y' }, germany.ip)).json().code).toBe('GEO_RESTRICTED');
  });

  it('follows a change of the product geoScope on the next call', async () => {
    const license = await licenseFor(['TURKEY']);
    expect((await validate({ key: license.key }, japan.ip)).json().code).toBe('GEO_RESTRICTED');
    await ctx.db.query(`UPDATE products SET geo_scope = '{TURKEY,ASIA}' WHERE id = $1`, [license.productId]);
    expect((await validate({ key: license.key }, japan.ip)).json().code).toBe('VALID');
  });
});
