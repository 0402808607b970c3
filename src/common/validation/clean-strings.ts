import { FieldIssue } from '../errors/domain-error';

/**
 * Finds strings Postgres cannot store (NUL, error 22021) or that are not valid Unicode (a lone
 * surrogate). Run on every body, query and path value before schema validation, so such input is
 * a 422 naming the field on every route, not a 500 from the database on some.
 */
export function findUncleanStrings(value: unknown, path: string[] = [], found: FieldIssue[] = []): FieldIssue[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000') || !value.isWellFormed()) {
      found.push({
        field: path.join('.') || '(root)',
        code: 'INVALID_CHARACTERS',
        message: 'Contains a NUL byte or an unpaired surrogate',
      });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => findUncleanStrings(item, [...path, String(index)], found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyPath = [...path, key];
      if (key.includes('\u0000') || !key.isWellFormed()) findUncleanStrings(key, keyPath, found);
      findUncleanStrings(item, keyPath, found);
    }
  }
  return found;
}
