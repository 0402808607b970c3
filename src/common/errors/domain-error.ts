import { ErrorCode } from './error-catalog';
import type { ParamCode, ProblemParams } from './problem-params';

/**
 * What a field issue says. A `fallback` is English shown only where the catalog has no
 * `validation:<code>` text for the caller's language; a `literal` is the service's own words (a
 * reason, a limit from our configuration) that a generic translation would lose, sent as is.
 */
export type FieldText = { fallback: string } | { literal: string };

/** One invalid input field; build it with `fieldIssue` (field-issues.ts). Its text is chosen when the problem is written. */
export interface FieldIssue {
  field: string;
  code: string;
  text: FieldText;
  /** Filled into the catalog translation of `code`. */
  params?: Record<string, string | number>;
}

interface CommonOptions {
  errors?: FieldIssue[];
  headers?: Record<string, string>;
  cause?: unknown;
}

type WithoutParams = Exclude<ErrorCode, ParamCode>;

/**
 * A code that declares params (PROBLEM_PARAMS) must be given them, in its own shape; any other
 * code takes none. Checked on the tuple, so a code only known as `ErrorCode` needs params too.
 */
export type DomainErrorOptions<C extends ErrorCode = ErrorCode> = CommonOptions &
  ([C] extends [WithoutParams] ? { params?: never } : { params: ProblemParams<C> });

type OptionsArgument<C extends ErrorCode> = [C] extends [WithoutParams] ? [options?: DomainErrorOptions<C>] : [options: DomainErrorOptions<C>];

/**
 * The one error type services throw. The global filter turns it into problem+json; its code
 * decides the status, title and detail, so no handler ever builds an HTTP error by hand.
 */
export class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  readonly options: CommonOptions & { params?: unknown };

  constructor(
    readonly code: C,
    ...[options]: OptionsArgument<C>
  ) {
    super(code, { cause: options?.cause });
    this.name = 'DomainError';
    this.options = options ?? {};
  }
}
