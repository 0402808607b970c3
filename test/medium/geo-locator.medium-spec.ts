import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GEO_DATA_PACKAGE, GeoData, geoDataFiles } from '../../src/common/geo/geo-locator';
import { withinGeoScopes } from '../../src/common/geo/geo-scopes';
import { GEO_ADDRESSES, GEO_DATA_VERSION } from '../fixtures/geo-addresses';

/** Medium tier: the real GeoLite2 data as shipped, read as GeoLocator reads it. */
describe('GeoData on the shipped data (medium)', () => {
  let geo: GeoData;
  beforeAll(async () => {
    geo = await GeoData.read();
  });

  it.each(Object.entries(GEO_ADDRESSES))('places the pinned address %s where the fixture says', (_name, { ip, location }) => {
    expect(geo.locate(ip)).toEqual(location);
  });

  it('reads the data version the fixture was pinned against (re-check the addresses, then bump GEO_DATA_VERSION)', () => {
    const packageJson = join(geoDataFiles().ipv4, '..', 'package.json');
    const installed = (JSON.parse(readFileSync(packageJson, 'utf8')) as { name: string; version: string }).version;
    expect({ package: GEO_DATA_PACKAGE, version: installed }).toEqual({ package: GEO_DATA_PACKAGE, version: GEO_DATA_VERSION });
  });

  it('looks up an IPv4-mapped IPv6 address as the IPv4 address it carries, in either notation', () => {
    const { istanbul, germany, private: internal } = GEO_ADDRESSES;
    expect(geo.locate(`::ffff:${istanbul.ip}`)).toEqual(istanbul.location);
    expect(geo.locate(`::FFFF:${germany.ip}`)).toEqual(germany.location);
    expect(geo.locate('::ffff:a04b:101')).toEqual(istanbul.location);
    expect(geo.locate(`::ffff:${internal.ip}`)).toBeNull();
  });

  it('places nothing in private, loopback, link-local, shared, documentation, multicast and other reserved ranges', () => {
    const special = ['10.0.0.1', '172.16.5.4', '192.168.1.1', '127.0.0.1', '169.254.10.10', '100.64.0.1', '0.0.0.0', '255.255.255.255'];
    const special6 = ['::', '::1', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', '2001:db8::1', 'ff02::1', '64:ff9b::a04b:101', '2002:a04b:101::1'];
    for (const ip of [...special, '192.0.2.1', '198.51.100.9', '203.0.113.9', '224.0.0.1', '240.0.0.1', ...special6]) expect(geo.locate(ip), ip).toBeNull();
  });

  it('answers null, never throws, for strings that are not an IP', () => {
    const junk = [
      '',
      ' ',
      'localhost',
      '1',
      '127.1',
      '010.1.1.1',
      '1.2.3.4.5',
      '256.1.1.1',
      '1.2.3.4 ',
      ':::',
      '2a00:5740::1::1',
      'x'.repeat(10_000),
      '1.2.3.4/24',
    ];
    for (const ip of junk) expect(geo.locate(ip), JSON.stringify(ip.slice(0, 20))).toBeNull();
  });

  it('decides the issue examples on real addresses: Marmara passes [MARMARA] and Aegean does not; Germany passes EUROPE and not TURKEY; a private address passes only ALL', () => {
    const { istanbul, izmir, germany, private: internal, unitedStates, japan } = GEO_ADDRESSES;
    expect(withinGeoScopes(geo.locate(istanbul.ip), ['MARMARA'])).toBe(true);
    expect(withinGeoScopes(geo.locate(izmir.ip), ['MARMARA'])).toBe(false);
    expect(withinGeoScopes(geo.locate(germany.ip), ['EUROPE'])).toBe(true);
    expect(withinGeoScopes(geo.locate(germany.ip), ['TURKEY'])).toBe(false);
    expect(withinGeoScopes(geo.locate(internal.ip), ['ALL'])).toBe(true);
    expect(withinGeoScopes(geo.locate(internal.ip), ['TURKEY', 'EUROPE', 'ASIA', 'WORLD', 'MARMARA'])).toBe(false);
    expect(withinGeoScopes(geo.locate(japan.ip), ['ASIA'])).toBe(true);
    expect(withinGeoScopes(geo.locate(unitedStates.ip), ['EUROPE', 'ASIA'])).toBe(false);
    expect(withinGeoScopes(geo.locate(unitedStates.ip), ['WORLD'])).toBe(true);
  });
});
