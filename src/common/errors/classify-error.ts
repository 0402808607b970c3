import { HttpException } from '@nestjs/common';
import { causeChain } from '../../lib/cause-chain';
import { DomainError } from './domain-error';
import { codeForStatus, ERROR_CATALOG, StatusCode } from './error-catalog';

/** Fastify's own errors: each maps to a code a bare status could give, or to MALFORMED_JSON. */
type FrameworkCode = StatusCode | 'MALFORMED_JSON';

const FASTIFY_CODES: Record<string, FrameworkCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

/** SQLSTATEs meaning input slipped past validation: the client's fault, not ours. */
const PG_INVALID_INPUT = new Set([
  '22001', // string_data_right_truncation
  '22021', // character_not_in_repertoire (a NUL byte)
  '22P05', // untranslatable_character
  '22P02', // invalid_text_representation
  '22003', // numeric_value_out_of_range
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
  '22009', // invalid_time_zone_displacement_value
]);

/** Socket errors and SQLSTATEs meaning the database cannot be reached right now. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH']);
/**
 * Shutdowns, too many connections, and our own timeouts: 57014 is statement_timeout, 55P03
 * lock_timeout. A held lock or a slow query passes, so the client may retry.
 */
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '57014', '55P03']);
/** pg's errors without a code: a dead or closed connection, a pool that could not connect in time, and a query the server never answered (query_timeout). */
const PG_UNREACHABLE_MESSAGES = [
  'Connection terminated',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
];

/** What the classifier cannot read off a framework's error but a problem's params declare. */
export interface ClassifyContext {
  /** The body limit of the route that refused the body. */
  bodyLimitBytes: number;
}

/**
 * Maps anything thrown while serving a request to a DomainError. What we cannot recognise is an
 * INTERNAL error: its message never reaches the client.
 */
export function classifyError(error: unknown, context: ClassifyContext): DomainError {
  if (error instanceof DomainError) return error as DomainError;

  const database = findDatabaseCause(error);
  if (database) return database;

  if (error instanceof HttpException) return fromStatus(error.getStatus(), error, context);

  const fastify = error instanceof Error ? (error as Error & { code?: unknown; statusCode?: unknown }) : undefined;
  if (fastify && typeof fastify.code === 'string' && fastify.code.startsWith('FST_')) {
    const code = FASTIFY_CODES[fastify.code];
    if (code) return fromStatus(ERROR_CATALOG[code].status, error, context, code);
    if (typeof fastify.statusCode === 'number' && fastify.statusCode < 500) return fromStatus(fastify.statusCode, error, context);
  }
  return new DomainError('INTERNAL', { cause: error });
}

/**
 * A framework error by its status (or the code chosen for it), with the params that code
 * declares: a framework's 429 or 503 says nothing of when to retry, so it gets the short wait
 * an unreachable database gets.
 */
function fromStatus(status: number, cause: unknown, context: ClassifyContext, code: FrameworkCode = codeForStatus(status)): DomainError {
  switch (code) {
    case 'PAYLOAD_TOO_LARGE':
      return new DomainError(code, { cause, params: { limit: context.bodyLimitBytes } });
    case 'RATE_LIMITED':
      return new DomainError(code, { cause, params: { retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS } });
    case 'SERVICE_UNAVAILABLE':
      return unavailable(cause);
    default:
      return new DomainError(code, { cause });
  }
}

/** The SQLSTATE of a Postgres error, looking through drizzle's wrapper (DrizzleQueryError.cause). */
export function pgErrorCode(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    const { code } = link as { code?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** drizzle wraps driver errors (DrizzleQueryError.cause), so the whole cause chain is searched. */
function findDatabaseCause(error: unknown): DomainError | undefined {
  for (const link of causeChain(error)) {
    const { code } = link as { code?: unknown };
    if (typeof code === 'string') {
      if (code === '23505') return new DomainError('CONFLICT', { cause: error });
      if (PG_INVALID_INPUT.has(code)) return new DomainError('VALIDATION_FAILED', { cause: error });
      if (UNREACHABLE.has(code) || PG_UNAVAILABLE.has(code) || code.startsWith('08')) {
        return unavailable(error);
      }
    }
    if (PG_UNREACHABLE_MESSAGES.some((message) => link.message.includes(message))) {
      return unavailable(error);
    }
  }
  return undefined;
}

const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const unavailable = (cause: unknown) => new DomainError('SERVICE_UNAVAILABLE', { cause, params: { retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS } });
