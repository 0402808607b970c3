import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import i18next, { i18n, Resource } from 'i18next';
import { DEFAULT_LANGUAGE, Language, LANGUAGES } from './language';

const MAX_CACHED_MESSAGES = 10_000;

/** Translation files live in src/i18n/<lang>/<namespace>.json and are copied to dist by nest-cli. */
export const I18N_PATH = join(__dirname, '../../i18n');

export function loadTranslations(path = I18N_PATH): Resource {
  return Object.fromEntries(
    LANGUAGES.map((lang) => [
      lang,
      Object.fromEntries(
        readdirSync(join(path, lang))
          .filter((file) => file.endsWith('.json'))
          .map((file) => [file.replace(/\.json$/, ''), JSON.parse(readFileSync(join(path, lang, file), 'utf8')) as object]),
      ),
    ]),
  );
}

/**
 * Translates `namespace:key` into one of our languages, falling back to English. Keys use
 * i18next's `{{param}}` interpolation. Resources are read once, at construction.
 */
@Injectable()
export class I18nService {
  private readonly i18n: i18n;
  private readonly messages = new Map<string, string>();

  constructor() {
    this.i18n = i18next.createInstance();
    void this.i18n.init({
      resources: loadTranslations(),
      lng: DEFAULT_LANGUAGE,
      fallbackLng: DEFAULT_LANGUAGE,
      supportedLngs: [...LANGUAGES],
      // Messages go into JSON, never into HTML, so there is nothing to escape.
      interpolation: { escapeValue: false },
      initAsync: false,
    });
  }

  translate(key: string, lang: Language, params?: Record<string, unknown>): string {
    if (params) return this.i18n.t(key, { lng: lang, ...params });
    // Without parameters a message never changes: i18next resolves it once (a license check's
    // `detail` is one, on every answer). Keys are built from our own codes; the cap only guards
    // against a caller that one day builds them from input.
    const id = `${lang}\u0000${key}`;
    let message = this.messages.get(id);
    if (message === undefined) {
      message = this.i18n.t(key, { lng: lang });
      if (this.messages.size < MAX_CACHED_MESSAGES) this.messages.set(id, message);
    }
    return message;
  }

  has(key: string, lang: Language): boolean {
    return this.i18n.exists(key, { lng: lang });
  }
}
