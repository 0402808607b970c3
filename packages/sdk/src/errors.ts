import type { ErrorCode, FieldError, ProblemDetails } from './types.js';

/**
 * A non-2xx answer, from its RFC 9457 problem+json body (status, code, title, detail, errors[],
 * requestId) and headers (Retry-After, X-Request-Id). `code` is one of the spec's ErrorCode values;
 * an answer that is not problem+json (a proxy's 502 page) has the code 'HTTP_<status>'.
 */
export class GatehouseError extends Error {
  override readonly name: string = 'GatehouseError';
  readonly status: number;
  readonly code: ErrorCode | `HTTP_${number}`;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[];
  readonly requestId: string | undefined;
  /** Seconds, from the Retry-After header or the problem's retryAfter member. */
  readonly retryAfter: number | undefined;
  /** The whole problem document, with the code's extension members (limit, resetsAt, …). */
  readonly problem: ProblemDetails | undefined;

  constructor(status: number, problem: ProblemDetails | undefined, headers: { get(name: string): string | null }) {
    const title = problem?.title ?? `HTTP ${status}`;
    super(problem?.detail ? `${title}: ${problem.detail}` : title);
    this.status = status;
    this.problem = problem;
    this.code = problem?.code ?? `HTTP_${status}`;
    this.title = title;
    this.detail = problem?.detail;
    this.errors = problem?.errors ?? [];
    this.requestId = problem?.requestId ?? headers.get('x-request-id') ?? undefined;
    this.retryAfter = parseRetryAfter(headers.get('retry-after')) ?? problem?.retryAfter;
  }
}

/** 422 VALIDATION_FAILED: `errors` names each invalid field. */
export class ValidationError extends GatehouseError {
  override readonly name = 'ValidationError';
}
/** 401: no credential, or one that is invalid or expired. */
export class AuthenticationError extends GatehouseError {
  override readonly name = 'AuthenticationError';
}
/** 403: the credential is fine but may not do this (role, scope, account state). */
export class PermissionError extends GatehouseError {
  override readonly name = 'PermissionError';
}
export class NotFoundError extends GatehouseError {
  override readonly name = 'NotFoundError';
}
export class ConflictError extends GatehouseError {
  override readonly name = 'ConflictError';
}
/** 429: a rate limit or quota; `retryAfter` says when to come back. */
export class RateLimitError extends GatehouseError {
  override readonly name = 'RateLimitError';
}

/** No HTTP answer at all: DNS, refused or reset connection, TLS. `cause` holds what fetch threw. */
export class NetworkError extends Error {
  override readonly name: string = 'NetworkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No answer within `timeoutMs`; the request was aborted. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`No answer within ${timeoutMs} ms`);
  }
}

/** Whether `error` is a GatehouseError, optionally with one of `codes`: `isGatehouseError(e, 'LICENSE_NOT_FOUND')`. */
export function isGatehouseError(error: unknown, ...codes: ErrorCode[]): error is GatehouseError {
  return error instanceof GatehouseError && (codes.length === 0 || codes.some((code) => code === error.code));
}

/** The error for an answer: its problem body if there is one, then the subclass for its status. */
export async function errorFromResponse(response: Response): Promise<GatehouseError> {
  const problem = await problemBody(response);
  // 422 also answers unusable licenses (EXPIRED, LICENSE_NOT_FOUND, …): only bad input is a ValidationError.
  const Class =
    response.status === 422 ? (problem?.code === 'VALIDATION_FAILED' ? ValidationError : GatehouseError) : (SUBCLASSES[response.status] ?? GatehouseError);
  return new Class(response.status, problem, response.headers);
}

const SUBCLASSES: Record<number, typeof GatehouseError> = {
  401: AuthenticationError,
  403: PermissionError,
  404: NotFoundError,
  409: ConflictError,
  429: RateLimitError,
};

async function problemBody(response: Response): Promise<ProblemDetails | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!/\bjson\b/.test(type)) return undefined;
  try {
    const body = (await response.json()) as unknown;
    return body && typeof body === 'object' && 'status' in body ? (body as ProblemDetails) : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
