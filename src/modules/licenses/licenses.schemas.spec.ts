import { describe, expect, it } from 'vitest';
import { loadTranslations } from '../../common/i18n/i18n.service';
import { LANGUAGES } from '../../common/i18n/language';
import { VALIDATION_CODES } from './licenses.schemas';

describe('license validation codes', () => {
  const translations = loadTranslations();

  it.each(LANGUAGES)('each has a detail in %s, and GEO_RESTRICTED names the country or says the location is unknown', (lang) => {
    const texts = (translations[lang] as { licenses: Record<string, string> }).licenses;
    for (const code of VALIDATION_CODES) expect(texts[code], `${lang} ${code}`).toMatch(/\S/);
    expect(texts.GEO_RESTRICTED).toContain('{{country}}');
    expect(texts.GEO_RESTRICTED_UNKNOWN_LOCATION).toMatch(/\S/);
  });
});
