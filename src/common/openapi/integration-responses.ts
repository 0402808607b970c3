import type { HeadersObject, ResponseObject } from '@nestjs/swagger';
import { INTEGRATION_ERRORS_EXTENSION, integrationMapping, integrationProblemType } from '../errors/integration-problem-writer';
import type { ErrorCode } from '../errors/error-catalog';
import { INTEGRATION_PROBLEM_TYPES, IntegrationProblem, IntegrationProblemSlug } from '../errors/problem.schemas';
import { I18nService } from '../i18n/i18n.service';
import { PROBLEM_CODES_EXTENSION, problemCodesOf } from './api-problems.decorator';
import { DocumentedOperation } from './documented-operation';
import { EXAMPLE_BASE_URL, exampleParams } from './problem-examples';

export const INTEGRATION_PROBLEM_SCHEMA_REF = '#/components/schemas/IntegrationProblem';

interface Grouped {
  codes: ErrorCode[];
  slugs: Set<IntegrationProblemSlug>;
  headers: HeadersObject;
  examples: Record<string, { summary: string; value: IntegrationProblem }>;
}

/**
 * Rewrites the error responses of operations marked @IntegrationErrors() into what the writer
 * answers there: the same codes, mapped by the writer's own function, so the two cannot disagree.
 * Runs last, over the responses the route declared and the shared ones the builder added.
 */
/**
 * Statuses the HTTP server answers before any route is known (headers over 16 KiB): their body is
 * the plain problem, whatever the path, so their documentation stays as the builder wrote it.
 */
const ANSWERED_BEFORE_ROUTING = new Set(['431']);

export function applyIntegrationResponses(path: string, operation: DocumentedOperation, i18n: I18nService): void {
  if (operation[INTEGRATION_ERRORS_EXTENSION] !== 'integration') return;
  const grouped = new Map<number, Grouped>();
  for (const [status, response] of Object.entries(operation.responses as Record<string, ResponseObject>)) {
    if (Number(status) < 400 || ANSWERED_BEFORE_ROUTING.has(status)) continue;
    delete operation.responses[status];
    const codes = problemCodesOf(response);
    for (const code of codes) {
      const mapping = integrationMapping(code, Number(status));
      const group = grouped.get(mapping.httpStatus) ?? { codes: [], slugs: new Set(), headers: {}, examples: {} };
      grouped.set(mapping.httpStatus, group);
      group.codes.push(code);
      group.slugs.add(mapping.slug);
      Object.assign(group.headers, response.headers);
      group.examples[code] = { summary: code, value: example(i18n, path, code, mapping) };
    }
  }
  for (const [httpStatus, group] of [...grouped].sort(([a], [b]) => a - b)) {
    const rewritten: ResponseObject & { [PROBLEM_CODES_EXTENSION]: ErrorCode[] } = {
      description: `Integration problem, type ${[...group.slugs].map((slug) => `/probs/${slug}`).join(' or ')}`,
      [PROBLEM_CODES_EXTENSION]: group.codes,
      ...(Object.keys(group.headers).length > 0 ? { headers: group.headers } : {}),
      content: { 'application/problem+json': { schema: { $ref: INTEGRATION_PROBLEM_SCHEMA_REF }, examples: group.examples } },
    };
    operation.responses[String(httpStatus)] = rewritten;
  }
}

function example(i18n: I18nService, path: string, code: ErrorCode, mapping: ReturnType<typeof integrationMapping>): IntegrationProblem {
  const value: IntegrationProblem = {
    type: integrationProblemType(EXAMPLE_BASE_URL, mapping.slug),
    title: INTEGRATION_PROBLEM_TYPES[mapping.slug].title,
    status: mapping.status,
    detail: i18n.translate(`problems:${code}.detail`, 'en', exampleParams(code)),
    instance: path,
    code,
    requestId: '0b4c7d2e-5f1a-4c3b-9d8e-7f6a5b4c3d2e',
    ...(exampleParams(code) as Partial<IntegrationProblem>),
  };
  if (mapping.slug === 'validation') {
    value.Errors = code === 'VALIDATION_FAILED' ? [{ Property: 'email', Errors: [i18n.translate('validation:INVALID_FORMAT', 'en')] }] : [];
  }
  return value;
}
