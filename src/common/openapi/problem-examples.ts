import type { OpenAPIObject } from '@nestjs/swagger';
import { ERROR_CATALOG, ErrorCode, problemSlug } from '../errors/error-catalog';
import { PROBLEM_PARAM_EXAMPLES } from '../errors/problem-params';
import { loadTranslations } from '../i18n/i18n.service';
import { problemCodesOf } from './api-problems.decorator';
import { DocumentedOperation, isInline } from './documented-operation';

/**
 * The base URL of the committed spec's examples (problem `type` URIs). The document an app serves
 * names its own PUBLIC_BASE_URL instead (withServedBaseUrl in openapi.ts).
 */
export const EXAMPLE_BASE_URL = 'http://localhost:3000';

type Texts = Record<string, { title: string; detail: string }>;

type ParamValue = number | string | readonly string[];

/** A code's example params, as a real answer would carry them; none for a code that declares none. */
export const exampleParams = (code: ErrorCode): Record<string, ParamValue> =>
  (PROBLEM_PARAM_EXAMPLES as Partial<Record<ErrorCode, Record<string, ParamValue>>>)[code] ?? {};

const alternatives = new Intl.ListFormat('en', { type: 'disjunction' });

/** The English detail of `code`, its `{{params}}` filled from the code's example params (a list as i18next's `list(type: disjunction)` writes it). */
export const exampleDetail = (code: ErrorCode, detail: string) =>
  detail.replace(/\{\{(\w+)(?:,[^}]*)?\}\}/g, (_, name: string) => {
    const value = exampleParams(code)[name] ?? name;
    return Array.isArray(value) ? alternatives.format(value) : String(value);
  });

function exampleFor(code: ErrorCode, texts: Texts) {
  return {
    summary: code,
    value: {
      type: `${EXAMPLE_BASE_URL}/problems/${problemSlug(code)}`,
      title: texts[code]?.title ?? code,
      status: ERROR_CATALOG[code].status,
      detail: exampleDetail(code, texts[code]?.detail ?? ''),
      instance: '/v1/products/prd_01jh8x2v3kf6qz9w0c4m5t7r8y',
      code,
      requestId: '0b4c7d2e-5f1a-4c3b-9d8e-7f6a5b4c3d2e',
      ...exampleParams(code),
      ...(code === 'VALIDATION_FAILED' ? { errors: [{ field: 'email', code: 'INVALID_FORMAT', message: 'Invalid format' }] } : {}),
    },
  };
}

/**
 * Gives every problem response a description naming its problems (the English titles of its
 * `x-problem-codes`) and one example per code, shared through components.examples. Without them
 * Swagger UI shows the schema's single example (a 422) under every error status. `describe` runs
 * on each operation; `writeComponents` once, after all of them.
 */
export class ProblemExamples {
  private readonly texts = loadTranslations().en?.problems as Texts;
  private readonly used = new Set<ErrorCode>();

  describe(operation: DocumentedOperation): void {
    for (const response of Object.values(operation.responses)) {
      if (!isInline(response)) continue;
      const media = response.content?.['application/problem+json'];
      const codes = problemCodesOf(response);
      if (!media || codes.length === 0) continue;
      response.description = codes.map((code) => this.texts[code]?.title ?? code).join('; ');
      media.examples = Object.fromEntries(codes.map((code) => [code, { $ref: `#/components/examples/${code}` }]));
      codes.forEach((code) => this.used.add(code));
    }
  }

  writeComponents(document: OpenAPIObject): void {
    document.components ??= {};
    document.components.examples = Object.fromEntries([...this.used].sort().map((code) => [code, exampleFor(code, this.texts)]));
  }
}
