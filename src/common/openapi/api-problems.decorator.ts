import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_CATALOG, ErrorCode } from '../errors/error-catalog';

export const PROBLEM_SCHEMA_REF = '#/components/schemas/ProblemDetails';

/** The machine codes a problem response can carry, for generated clients to switch over. */
export const PROBLEM_CODES_EXTENSION = 'x-problem-codes';

/**
 * The OpenAPI response object for a status answered with problem+json by the given codes. The
 * description is replaced by the codes' titles once the document is built (problem-examples.ts).
 */
export function problemResponse(codes: ErrorCode[]) {
  return {
    description: 'Problem details',
    [PROBLEM_CODES_EXTENSION]: codes,
    content: { 'application/problem+json': { schema: { $ref: PROBLEM_SCHEMA_REF } } },
  };
}

/** The codes a response documents in `x-problem-codes`; none for a response that is no problem. */
export function problemCodesOf(response: unknown): ErrorCode[] {
  const codes = (response as Record<string, unknown> | undefined)?.[PROBLEM_CODES_EXTENSION];
  if (!Array.isArray(codes)) return [];
  return (codes as unknown[]).filter((code): code is ErrorCode => typeof code === 'string' && Object.hasOwn(ERROR_CATALOG, code));
}

/**
 * Documents the domain errors an operation can answer with, grouped by status. The errors every
 * operation shares (validation, body parsing, 500, 503) are added when the document is built.
 */
export function ApiProblems(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CATALOG[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(...[...byStatus].map(([status, grouped]) => ApiResponse({ status, ...problemResponse(grouped) })));
}
