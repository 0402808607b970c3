import type { OpenAPIObject } from '@nestjs/swagger';
import { ERROR_CATALOG, ErrorCode, problemSlug } from '../errors/error-catalog';
import { loadTranslations } from '../i18n/i18n.service';

type Texts = Record<string, { title: string; detail: string }>;

/** Values for the `{{params}}` of the English texts, as a real answer would carry them. */
const SAMPLE_PARAMS: Record<string, string> = { limit: '1048576', retryAfter: '30' };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The codes a problem response documents, read back from the description problemResponse() writes. */
const codesOf = (description: string | undefined): ErrorCode[] =>
  (description?.match(/code: (.+)$/)?.[1]?.split(' | ') ?? []).filter((code): code is ErrorCode => code in ERROR_CATALOG);

function exampleFor(code: ErrorCode, texts: Texts) {
  const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => SAMPLE_PARAMS[name] ?? name);
  return {
    summary: code,
    value: {
      type: `http://localhost:3000/problems/${problemSlug(code)}`,
      title: texts[code]?.title ?? code,
      status: ERROR_CATALOG[code].status,
      detail: fill(texts[code]?.detail ?? ''),
      instance: '/v1/products/prd_01jh8x2v3kf6qz9w0c4m5t7r8y',
      code,
      requestId: '0b4c7d2e-5f1a-4c3b-9d8e-7f6a5b4c3d2e',
      ...(code === 'VALIDATION_FAILED' ? { errors: [{ field: 'email', code: 'INVALID_FORMAT', message: 'Invalid format' }] } : {}),
    },
  };
}

/**
 * Gives every problem response one example per code it documents, shared through
 * components.examples. Without them Swagger UI shows the schema's single example (a 422) under
 * every error status.
 */
export function addProblemExamples(document: OpenAPIObject): OpenAPIObject {
  const texts = loadTranslations().en?.problems as Texts;
  const used = new Set<ErrorCode>();
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      for (const response of Object.values(item[method]?.responses ?? {})) {
        const media = (response as { content?: Record<string, { examples?: unknown }> }).content?.['application/problem+json'];
        const codes = codesOf((response as { description?: string }).description);
        if (!media || codes.length === 0) continue;
        media.examples = Object.fromEntries(codes.map((code) => [code, { $ref: `#/components/examples/${code}` }]));
        codes.forEach((code) => used.add(code));
      }
    }
  }
  document.components ??= {};
  document.components.examples = Object.fromEntries([...used].sort().map((code) => [code, exampleFor(code, texts)]));
  return document;
}
