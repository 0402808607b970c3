import Negotiator from 'negotiator';

export const LANGUAGES = ['en', 'tr', 'ar'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

const SUPPORTED = [...LANGUAGES];

export const isLanguage = (value: unknown): value is Language => LANGUAGES.includes(value as Language);

/** The best supported language for an Accept-Language header (q-values and regions honoured), else English. */
export function languageFromHeader(acceptLanguage: string | string[] | undefined): Language {
  const header = Array.isArray(acceptLanguage) ? acceptLanguage.join(',') : acceptLanguage;
  if (!header) return DEFAULT_LANGUAGE;
  const picked = new Negotiator({ headers: { 'accept-language': header } }).language(SUPPORTED);
  return isLanguage(picked) ? picked : DEFAULT_LANGUAGE;
}

/**
 * The language for messages in this request: the signed-in user's own, else Accept-Language.
 * Every translated message goes through here, so they all follow the same rule.
 */
export function requestLanguage(request: { headers: Record<string, string | string[] | undefined>; principal?: { language: Language } }): Language {
  return request.principal?.language ?? languageFromHeader(request.headers['accept-language']);
}
