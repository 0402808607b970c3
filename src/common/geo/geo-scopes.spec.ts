import { describe, expect, it } from 'vitest';
import { GEO_SCOPES } from '../../db/schema/geo-scopes';
import type { GeoLocation } from './geo-locator';
import { ASIA_COUNTRIES, EUROPE_COUNTRIES, GeoScope, withinGeoScopes } from './geo-scopes';
import { TURKISH_REGIONS } from './turkish-regions';

const at = (country: string, plate: string | null = null, region: GeoLocation['region'] = null): GeoLocation => ({ country, plate, region });
const istanbul = at('TR', '34', 'MARMARA');
const izmir = at('TR', '35', 'AEGEAN');
const turkeyUnplaced = at('TR');
const germany = at('DE');
const japan = at('JP');
const unitedStates = at('US');

/** Every scope a location passes, one scope at a time. */
const passes = (location: GeoLocation | null) => GEO_SCOPES.filter((scope) => withinGeoScopes(location, [scope]));

describe('withinGeoScopes', () => {
  it('ALL is everywhere, unknown locations included; every other scope refuses an unknown location', () => {
    expect(passes(null)).toEqual(['ALL']);
    for (const location of [istanbul, turkeyUnplaced, germany, japan, unitedStates]) expect(withinGeoScopes(location, ['ALL'])).toBe(true);
  });

  it('TURKEY is the country, whether or not the province is known', () => {
    expect(passes(istanbul)).toEqual(['ALL', 'TURKEY', 'MARMARA']);
    expect(passes(turkeyUnplaced)).toEqual(['ALL', 'TURKEY']);
    expect(withinGeoScopes(germany, ['TURKEY'])).toBe(false);
  });

  it('each region takes the Turkish provinces mapped to it, and nothing outside Turkey', () => {
    expect(withinGeoScopes(istanbul, ['MARMARA'])).toBe(true);
    expect(withinGeoScopes(izmir, ['MARMARA'])).toBe(false);
    expect(withinGeoScopes(izmir, ['AEGEAN'])).toBe(true);
    for (const region of TURKISH_REGIONS) {
      expect(withinGeoScopes(at('TR', null, region), [region]), region).toBe(true);
      expect(withinGeoScopes(turkeyUnplaced, [region]), region).toBe(false);
      expect(withinGeoScopes(germany, [region]), region).toBe(false);
    }
  });

  it('EUROPE and ASIA are country lists, and Turkey is in neither', () => {
    expect(passes(germany)).toEqual(['ALL', 'EUROPE', 'WORLD']);
    expect(passes(japan)).toEqual(['ALL', 'ASIA', 'WORLD']);
    expect(passes(at('RU'))).toEqual(['ALL', 'EUROPE', 'ASIA', 'WORLD']);
    expect(passes(at('CY'))).toEqual(['ALL', 'EUROPE', 'WORLD']);
    expect(EUROPE_COUNTRIES.has('TR')).toBe(false);
    expect(ASIA_COUNTRIES.has('TR')).toBe(false);
    for (const code of [...EUROPE_COUNTRIES, ...ASIA_COUNTRIES]) expect(code).toMatch(/^[A-Z]{2}$/);
    expect([EUROPE_COUNTRIES.size, ASIA_COUNTRIES.size]).toEqual([56, 52]);
  });

  it('WORLD is any known location outside Turkey', () => {
    expect(passes(unitedStates)).toEqual(['ALL', 'WORLD']);
    expect(withinGeoScopes(istanbul, ['WORLD'])).toBe(false);
    expect(withinGeoScopes(turkeyUnplaced, ['WORLD'])).toBe(false);
  });

  it('passes when any one scope matches, and never with no scopes', () => {
    const marmaraOrEurope: GeoScope[] = ['MARMARA', 'EUROPE'];
    expect([istanbul, izmir, germany, japan, null].map((location) => withinGeoScopes(location, marmaraOrEurope))).toEqual([true, false, true, false, false]);
    expect(withinGeoScopes(istanbul, [])).toBe(false);
  });
});
