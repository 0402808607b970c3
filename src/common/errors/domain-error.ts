import { ErrorCode } from './error-catalog';

/** One invalid input field. `message` is translated when the problem is written. */
export interface FieldIssue {
  field: string;
  code: string;
  /** English fallback, used when no translation exists for `code`. */
  message: string;
  params?: Record<string, string | number>;
}

export interface DomainErrorOptions {
  /** Values interpolated into the translated detail, e.g. `{ seconds: 30 }`. */
  params?: Record<string, string | number>;
  errors?: FieldIssue[];
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The one error type services throw. The global filter turns it into problem+json; its code
 * decides the status, title and detail, so no handler ever builds an HTTP error by hand.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly options: DomainErrorOptions = {},
  ) {
    super(code, { cause: options.cause });
    this.name = 'DomainError';
  }
}
