import { FieldIssue } from '../errors/domain-error';
import { fieldIssue } from '../errors/field-issues';

/**
 * Text from outside that is stored, not refused (a webhook receiver's answer, an error message):
 * NUL and lone surrogates, which Postgres cannot store (22021), become U+FFFD. One such string in
 * a batch statement would otherwise fail every row of the batch.
 */
export const storableText = (text: string): string => (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text).toWellFormed();

/** Deeper JSON is refused: no schema of ours nests near this, and the check stays iterative. */
export const MAX_NESTING_DEPTH = 64;

/**
 * Finds strings Postgres cannot store (NUL, error 22021) or that are not valid Unicode (a lone
 * surrogate), and nesting deeper than MAX_NESTING_DEPTH. Run on every body, query and path value
 * before schema validation, so such input is a 422 naming the field on every route, not a 500 from
 * the database on some. The walk keeps its own stack: a body nested thousands deep must not
 * overflow the call stack (RangeError) here or in the schema validation after it.
 */
export function findUncleanStrings(value: unknown, prefix: string[] = []): FieldIssue[] {
  const found: FieldIssue[] = [];
  const field = (path: string[]) => [...prefix, ...path].join('.') || '(root)';
  const checkString = (text: string, path: string[]) => {
    if (text.includes('\u0000') || !text.isWellFormed()) {
      found.push(fieldIssue(field(path), 'INVALID_CHARACTERS', { fallback: 'Contains a NUL byte or an unpaired surrogate' }));
    }
  };
  let tooDeep = false;
  const stack: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      checkString(current, path);
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (path.length >= MAX_NESTING_DEPTH) {
      // One entry is enough: a wide, deep body would otherwise list thousands of fields.
      if (!tooDeep) {
        found.push(fieldIssue(field(path), 'TOO_DEEP', { fallback: `Nested more than ${MAX_NESTING_DEPTH} levels deep` }, { maximum: MAX_NESTING_DEPTH }));
      }
      tooDeep = true;
      continue;
    }
    const entries: Array<[string, unknown]> = Array.isArray(current) ? current.map((item, index) => [String(index), item]) : Object.entries(current);
    // Pushed in reverse, so fields are reported in document order.
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, item] = entries[index]!;
      const keyPath = [...path, key];
      stack.push({ value: item, path: keyPath });
      if (!Array.isArray(current)) stack.push({ value: key, path: keyPath });
    }
  }
  return found;
}
