import type { Language } from '../../common/i18n/language';
import { PAGE_SCRIPT } from './pages.script';

export type PageKind = 'activate' | 'resetPassword';

/** What differs between the two pages, besides their text. */
interface PageSpec {
  /** The link's query parameter that holds the token. */
  tokenParameter: string;
  /** The body field the API takes it in. */
  tokenField: string;
  /** The API route, below PUBLIC_BASE_URL's path. */
  route: string;
  /** Activation needs nothing more from the user, so the page sends itself once loaded. */
}

const PAGES: Record<PageKind, PageSpec> = {
  activate: { tokenParameter: 'emailVerificationToken', tokenField: 'emailVerificationToken', route: '/v1/accounts/activate-account' },
  resetPassword: { tokenParameter: 'token', tokenField: 'token', route: '/v1/users/password-reset' },
};

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string) => text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);

/** Right-to-left scripts among our languages. */
const RTL: ReadonlySet<Language> = new Set(['ar']);

/**
 * A plain page: a heading, a sentence, a form (a labelled password field on the reset page) and a
 * live region for the outcome. No style and no external resource; the one script is PAGE_SCRIPT.
 * `text(key)` gives the page's messages in `lang`; `basePath` is PUBLIC_BASE_URL's path.
 */
export function renderPage(kind: PageKind, lang: Language, basePath: string, text: (key: string) => string): string {
  const spec = PAGES[kind];
  const t = (key: string) => escape(text(`${kind}.${key}`));
  const data = {
    'token-parameter': spec.tokenParameter,
    'token-field': spec.tokenField,
    action: `${basePath}${spec.route}`,
    working: text(`${kind}.working`),
    success: text(`${kind}.success`),
    missing: text(`${kind}.missing`),
    failed: text('failed'),
  };
  const attributes = Object.entries(data)
    .map(([name, value]) => `data-${name}="${escape(value)}"`)
    .join(' ');
  const password =
    kind === 'resetPassword'
      ? `<p><label for="newPassword">${t('newPassword')}</label><br>
<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="password-help"></p>
<p id="password-help">${t('passwordHelp')}</p>
`
      : '';
  return `<!doctype html>
<html lang="${lang}" dir="${RTL.has(lang) ? 'rtl' : 'ltr'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${t('title')}</title>
</head>
<body>
<main>
<h1>${t('title')}</h1>
<form id="gatehouse-form" ${attributes}>
<p>${t('intro')}</p>
${password}<p><button type="submit">${t('submit')}</button></p>
</form>
<p id="outcome" role="status" aria-live="polite"></p>
<noscript><p>${escape(text('noscript'))}</p></noscript>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
