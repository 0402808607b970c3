import { applyDecorators } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { INTEGRATION_PROBLEM_TYPES, IntegrationProblem, IntegrationProblemSlug, ProblemDetails } from './problem.schemas';
import { problemMembersSchema, ProblemMembers } from './problem-params';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by @IntegrationErrors(): the choice travels with the route itself, not with its URL. */
    gatehouseIntegrationErrors?: boolean;
  }
}

/** Marks the operation in the OpenAPI document, where its error responses are rewritten to match. */
export const INTEGRATION_ERRORS_EXTENSION = 'x-problem-format';

/** Answers this handler's errors in the integration format (and documents them so). */
export const IntegrationErrors = () =>
  applyDecorators(RouteConfig({ gatehouseIntegrationErrors: true }), ApiExtension(INTEGRATION_ERRORS_EXTENSION, 'integration'));

export function usesIntegrationErrors(request: FastifyRequest): boolean {
  // Absent before routing (a malformed URL): those answers stay RFC 9457.
  return request.routeOptions?.config?.gatehouseIntegrationErrors === true;
}

/** Our codes that are input errors, answered as the docs' validation problem. */
const VALIDATION_CODES = new Set(['VALIDATION_FAILED', 'MALFORMED_JSON']);
/** Statuses of our rule violations, which the docs answer with 400. */
const BUSINESS_STATUSES = new Set([400, 409, 422]);

/**
 * Where one of our problems lands in the integration format: its `type`, the HTTP status, and the
 * `status` member (they differ only for forbidden, which the docs answer with HTTP 401). Statuses
 * the docs do not list (404, 405, 413, 415, 429, 503, ...) keep their own.
 */
export function integrationMapping(code: string, status: number): { slug: IntegrationProblemSlug; httpStatus: number; status: number } {
  if (VALIDATION_CODES.has(code)) return { slug: 'validation', httpStatus: 400, status: 400 };
  if (status === 401) return { slug: 'authorization', httpStatus: 401, status: 401 };
  if (status === 403) return { slug: 'authentication', httpStatus: 401, status: 403 };
  if (BUSINESS_STATUSES.has(status)) return { slug: 'business', httpStatus: 400, status: 400 };
  const slug = status >= 500 ? 'internal' : 'business';
  return { slug, httpStatus: status, status };
}

export const integrationProblemType = (baseUrl: string, slug: IntegrationProblemSlug) => `${baseUrl}/probs/${slug}`;

/** Rewrites an already translated RFC 9457 problem into the integration format. */
export function toIntegrationProblem(problem: ProblemDetails, baseUrl: string): { httpStatus: number; body: IntegrationProblem } {
  const { slug, httpStatus, status } = integrationMapping(problem.code, problem.status);
  const body: IntegrationProblem = {
    type: integrationProblemType(baseUrl, slug),
    title: INTEGRATION_PROBLEM_TYPES[slug].title,
    status,
    detail: problem.detail,
    instance: problem.instance,
    code: problem.code,
    requestId: problem.requestId,
    ...extensionMembersOf(problem),
  };
  if (slug === 'validation') {
    const byField = new Map<string, string[]>();
    for (const issue of problem.errors ?? []) byField.set(issue.field, [...(byField.get(issue.field) ?? []), issue.message]);
    body.Errors = [...byField].map(([Property, Errors]) => ({ Property, Errors }));
  }
  return { httpStatus, body };
}

const MEMBER_NAMES = Object.keys(problemMembersSchema.shape) as (keyof ProblemMembers)[];

/** The typed extension members a problem carries (its code's declared params), kept as they are. */
function extensionMembersOf(problem: ProblemDetails): ProblemMembers {
  return Object.fromEntries(MEMBER_NAMES.filter((name) => problem[name] !== undefined).map((name) => [name, problem[name]]));
}
