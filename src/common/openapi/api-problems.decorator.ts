import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_CATALOG, ErrorCode } from '../errors/error-catalog';

export const PROBLEM_SCHEMA_REF = '#/components/schemas/ProblemDetails';

/** The OpenAPI response object for a status answered with problem+json by the given codes. */
export function problemResponse(codes: ErrorCode[]) {
  return {
    description: `Problem details. code: ${codes.join(' | ')}`,
    content: { 'application/problem+json': { schema: { $ref: PROBLEM_SCHEMA_REF } } },
  };
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
  return applyDecorators(
    ...[...byStatus].map(([status, grouped]) => ApiResponse({ status, ...problemResponse(grouped) })),
  );
}
