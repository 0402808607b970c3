import { causeChain } from '../lib/cause-chain';

/**
 * Whether `error` is Postgres refusing a row under the unique index or constraint named
 * `constraint` (SQLSTATE 23505), looking through drizzle's wrapper. A repository turns exactly
 * that refusal into a `{ outcome: … }` its service decides on; a violation of any other key (a
 * colliding id) stays an error, which the problem writer answers with 409 CONFLICT.
 */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return causeChain(error).some((link) => {
    const { code, constraint: violated } = link as { code?: unknown; constraint?: unknown };
    return code === '23505' && violated === constraint;
  });
}
