import { describe, expect, it } from 'vitest';
import { plateOfProvince, PROVINCE_REGIONS, provinceKey, regionOfPlate, TURKISH_PROVINCES, TURKISH_REGIONS } from './turkish-regions';

const ALL_PLATES = Array.from({ length: 81 }, (_, i) => String(i + 1).padStart(2, '0'));

describe('Turkish provinces and regions', () => {
  it('maps every plate 01..81 to exactly one of the seven regions, and nothing else', () => {
    // Listed once each, in order: a plate listed twice would silently take the later region.
    expect(TURKISH_PROVINCES.map(([plate]) => plate)).toEqual(ALL_PLATES);
    expect([...PROVINCE_REGIONS.keys()].sort()).toEqual(ALL_PLATES);
    for (const plate of ALL_PLATES) expect(TURKISH_REGIONS, plate).toContain(regionOfPlate(plate));
    for (const outside of ['00', '82', '99', '1', '001', '', '3a']) expect(regionOfPlate(outside), outside).toBeNull();
  });

  it('gives each region its standard number of provinces, and a few well-known ones', () => {
    const sizes = Object.fromEntries(TURKISH_REGIONS.map((region) => [region, [...PROVINCE_REGIONS.values()].filter((r) => r === region).length]));
    expect(sizes).toEqual({
      MARMARA: 11,
      AEGEAN: 8,
      MEDITERRANEAN: 8,
      CENTRAL_ANATOLIA: 13,
      BLACK_SEA: 18,
      EASTERN_ANATOLIA: 14,
      SOUTHEASTERN_ANATOLIA: 9,
    });
    expect({ istanbul: regionOfPlate('34'), izmir: regionOfPlate('35'), ankara: regionOfPlate('06'), batman: regionOfPlate('72') }).toEqual({
      istanbul: 'MARMARA',
      izmir: 'AEGEAN',
      ankara: 'CENTRAL_ANATOLIA',
      batman: 'SOUTHEASTERN_ANATOLIA',
    });
  });

  it("finds a province by the data's ASCII name, with or without ' Province', and by its Turkish spelling", () => {
    expect(plateOfProvince('Istanbul')).toBe('34');
    expect(plateOfProvince('İstanbul')).toBe('34');
    expect(plateOfProvince('Izmir Province')).toBe('35');
    expect(plateOfProvince('Sanliurfa')).toBe('63');
    expect(plateOfProvince('Şanlıurfa')).toBe('63');
    expect(plateOfProvince('Hakkari')).toBe('30');
    expect(plateOfProvince('Afyonkarahisar Province')).toBe('03');
    expect(plateOfProvince('IGDIR')).toBe('76');
    expect(plateOfProvince('Bavaria')).toBeNull();
    expect(plateOfProvince('')).toBeNull();
  });

  it('tells every province from the others by its name: each name leads back to its own plate', () => {
    for (const [plate, name] of TURKISH_PROVINCES) expect(plateOfProvince(name), name).toBe(plate);
    const keys = ['Adıyaman', 'Ağrı', 'Çanakkale', 'Çankırı', 'Kırklareli', 'Kırşehir', 'Kırıkkale'].map(provinceKey);
    expect(keys).toEqual(['adiyaman', 'agri', 'canakkale', 'cankiri', 'kirklareli', 'kirsehir', 'kirikkale']);
  });
});
