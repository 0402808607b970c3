/**
 * An error as it may be logged: name, code, message and stack along the cause chain, with the
 * bound parameters drizzle puts in its messages ("params: ...") and on DrizzleQueryError.params
 * removed, since they can hold password hashes, tokens or key material.
 */
export interface SafeError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SafeError;
}

const PARAMS = /\nparams: [\s\S]*?(?=\n\s+at |$)/;
/** A query string after a path, as in Nest's "Cannot GET /path?token=...": links carry tokens there. */
const QUERY = /(\/[^\s?"']*)\?[^\s"']*/g;

/** Without `withStack`, for client errors: a 404's stack says nothing and buries real errors. */
export function safeErrorForLog(error: unknown, depth = 0, withStack = true): SafeError {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error).slice(0, 200) };
  const { code } = error as { code?: unknown };
  const scrub = (text: string) => text.replace(PARAMS, '\nparams: [REDACTED]').replace(QUERY, '$1?[REDACTED]');
  return {
    type: error.name,
    message: scrub(error.message),
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack && withStack ? { stack: scrub(error.stack) } : {}),
    ...(error.cause !== undefined && depth < 4 ? { cause: safeErrorForLog(error.cause, depth + 1, withStack) } : {}),
  };
}
