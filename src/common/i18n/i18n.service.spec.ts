import { describe, expect, it } from 'vitest';
import { I18nService } from './i18n.service';
import { LANGUAGES } from './language';

describe('I18nService', () => {
  const i18n = new I18nService();

  it('answers a message without parameters the same the second time (from its cache), per language', () => {
    const first = LANGUAGES.map((lang) => i18n.translate('licenses:VALID', lang));
    expect(new Set(first).size).toBe(3);
    expect(LANGUAGES.map((lang) => i18n.translate('licenses:VALID', lang))).toEqual(first);
  });

  it('fills parameters on every call, never from a cached message', () => {
    const a = i18n.translate('licenses:GEO_RESTRICTED', 'en', { country: 'TR' });
    const b = i18n.translate('licenses:GEO_RESTRICTED', 'en', { country: 'DE' });
    expect(a).toContain('TR');
    expect(b).toContain('DE');
  });
});
