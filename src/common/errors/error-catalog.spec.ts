import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { I18N_PATH } from '../i18n/i18n.service';
import { LANGUAGES } from '../i18n/language';
import { CODE_FOR_STATUS, codeForSlug, codeForStatus, ERROR_CATALOG, ERROR_CODES, problemSlug } from './error-catalog';
import { INTEGRATION_PROBLEM_SLUGS } from './problem.schemas';

const read = (lang: string, namespace: string) => JSON.parse(readFileSync(join(I18N_PATH, lang, `${namespace}.json`), 'utf8')) as Record<string, unknown>;

describe('error catalog', () => {
  it('uses UPPER_SNAKE codes whose slugs map back to them', () => {
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
      expect(codeForSlug(problemSlug(code))).toBe(code);
    }
  });

  it('maps every status the catalog uses to one chosen code of that status, not to the first declared', () => {
    const statuses = new Set(ERROR_CODES.map((code) => ERROR_CATALOG[code].status));
    expect(Object.keys(CODE_FOR_STATUS).map(Number).sort()).toEqual([...statuses].sort());
    for (const status of statuses) expect(ERROR_CATALOG[codeForStatus(status)].status).toBe(status);
    // USER_EXISTS and EXPIRED share these statuses; the generic code answers a bare status.
    expect(codeForStatus(400)).toBe('BAD_REQUEST');
    expect(codeForStatus(422)).toBe('VALIDATION_FAILED');
    expect(codeForStatus(418)).toBe('BAD_REQUEST');
    expect(codeForStatus(504)).toBe('INTERNAL');
  });

  it.each(LANGUAGES)('has a title, detail and description for every code in %s', (lang) => {
    const problems = read(lang, 'problems') as Record<string, Record<string, string>>;
    for (const code of ERROR_CODES) {
      for (const field of ['title', 'detail', 'description']) {
        expect(problems[code]?.[field], `${lang} ${code}.${field}`).toEqual(expect.stringMatching(/\S/));
      }
    }
    expect(Object.keys(problems).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('describes every integration problem type (/probs) in every language', () => {
    for (const lang of LANGUAGES) {
      const probs = (read(lang, 'integration') as { probs: Record<string, string> }).probs;
      expect(Object.keys(probs).sort(), lang).toEqual([...INTEGRATION_PROBLEM_SLUGS].sort());
      for (const slug of INTEGRATION_PROBLEM_SLUGS) expect(probs[slug], `${lang} ${slug}`).toMatch(/\S/);
    }
  });

  it('translates the same validation codes in every language', () => {
    const english = Object.keys(read('en', 'validation')).sort();
    for (const lang of LANGUAGES) expect(Object.keys(read(lang, 'validation')).sort()).toEqual(english);
  });
});
