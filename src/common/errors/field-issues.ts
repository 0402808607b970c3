import { DomainError, FieldIssue, FieldText } from './domain-error';

/** One invalid field: `text` says whether the catalog may translate it (`fallback`) or not (`literal`). */
export function fieldIssue(field: string, code: string, text: FieldText, params?: FieldIssue['params']): FieldIssue {
  return params === undefined ? { field, code, text } : { field, code, text, params };
}

/** 422 VALIDATION_FAILED naming each invalid field. */
export function invalidFields(errors: FieldIssue[], cause?: unknown): DomainError<'VALIDATION_FAILED'> {
  return new DomainError('VALIDATION_FAILED', cause === undefined ? { errors } : { errors, cause });
}

/** 422 VALIDATION_FAILED for one field, the common case of a rule a service checks. */
export const invalidField = (field: string, code: string, text: FieldText, params?: FieldIssue['params']) =>
  invalidFields([fieldIssue(field, code, text, params)]);
