import { describe, expect, it } from 'vitest';
import { generateLicenseKey, LICENSE_KEY_PATTERN, normalizeLicenseKey } from './license-key';

describe('license keys', () => {
  it('are five groups of five Crockford base32 characters, all different', () => {
    const keys = new Set(Array.from({ length: 1000 }, generateLicenseKey));
    expect(keys.size).toBe(1000);
    for (const key of keys) expect(key).toMatch(LICENSE_KEY_PATTERN);
  });

  it('read the way people type them: any case, O for 0, I and L for 1, dashes optional', () => {
    expect(normalizeLicenseKey('abcde-fghjk-mnpqr-stvwx-yz0o1')).toBe('ABCDE-FGHJK-MNPQR-STVWX-YZ001');
    expect(normalizeLicenseKey('ABCDEFGHJKMNPQRSTVWXYZ0IL')).toBe('ABCDE-FGHJK-MNPQR-STVWX-YZ011');
    expect(LICENSE_KEY_PATTERN.test(normalizeLicenseKey('too short'))).toBe(false);
  });
});
