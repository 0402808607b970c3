import { z } from 'zod';
import { FieldIssue } from '../errors/domain-error';
import { fieldIssue } from '../errors/field-issues';

// A missing field reads "Required" instead of zod's "expected string, received undefined".
z.config({
  customError: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined),
});

const fieldPath = (prefix: string | undefined, path: readonly PropertyKey[]) =>
  [prefix, ...path.map(String)].filter((part) => part !== undefined && part !== '').join('.') || '(root)';

/** One FieldIssue per offending field; an unknown-keys issue becomes one entry per unknown key. */
export function zodIssuesToFieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => fieldIssue(fieldPath(prefix, [...issue.path, key]), 'UNRECOGNIZED_KEY', { fallback: 'Unknown field' }));
      case 'invalid_type':
        return [
          fieldIssue(
            fieldPath(prefix, issue.path),
            issue.message === 'Required' ? 'REQUIRED' : 'INVALID_TYPE',
            { fallback: issue.message },
            { expected: issue.expected },
          ),
        ];
      case 'too_small':
        return [simple(prefix, issue, 'TOO_SMALL', { minimum: Number(issue.minimum) })];
      case 'too_big':
        return [simple(prefix, issue, 'TOO_BIG', { maximum: Number(issue.maximum) })];
      case 'invalid_format':
        return [simple(prefix, issue, 'INVALID_FORMAT')];
      case 'custom': {
        // A refinement may name its own code (e.g. COMMON_PASSWORD), translated like the built-in ones,
        // with the other params it gives filled into the translation.
        const { code, ...params } = (issue.params ?? {}) as { code?: unknown } & Record<string, string | number>;
        if (typeof code === 'string') {
          return [fieldIssue(fieldPath(prefix, issue.path), code, { fallback: issue.message }, Object.keys(params).length > 0 ? params : undefined)];
        }
        return [simple(prefix, issue, 'INVALID_VALUE')];
      }
      default:
        return [simple(prefix, issue, 'INVALID_VALUE')];
    }
  });
}

function simple(prefix: string | undefined, issue: z.core.$ZodIssue, code: string, params?: Record<string, number>): FieldIssue {
  // Refinements carry their own English message; the generic translation would lose what they say.
  const ownMessage = issue.code === 'custom' || (issue.code === 'invalid_format' && issue.format === 'regex');
  return fieldIssue(fieldPath(prefix, issue.path), code, ownMessage ? { literal: issue.message } : { fallback: issue.message }, params);
}
