import { applyDecorators, SetMetadata, UseFilters } from '@nestjs/common';
import { ApiExtension, ApiHeader, OpenAPIObject, ResponseObject } from '@nestjs/swagger';
import { RETRY_AFTER } from '../throttling/rate-limit-headers';
import { problemCodesOf, problemResponse } from '../openapi/api-problems.decorator';
import { DocumentedOperation, isInline } from '../openapi/documented-operation';
import { IdempotentReplayFilter, REPLAYED_HEADER } from './idempotency.replay';

/** Marks an operation that takes Idempotency-Key in the spec; the document builder adds its answers. */
export const IDEMPOTENT_EXTENSION = 'x-idempotent';
/** The route's own mark: the route guard's last step claims the key (IdempotencyService.admit), then counts the call. */
export const IDEMPOTENT = 'gatehouse:idempotent';

/**
 * A POST with side effects that accepts `Idempotency-Key`: the first completed response is stored
 * for 24 h and replayed to a retry with the same key (same caller, method and path). Opt-in per
 * route; documents the header, the replay header and the misuse problems.
 */
export const Idempotent = () =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, true),
    UseFilters(IdempotentReplayFilter),
    ApiExtension(IDEMPOTENT_EXTENSION, true),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'A unique key (1–255 printable ASCII characters, e.g. a UUID) making this request safe to retry: for 24 h, a repeat with the same key ' +
        'and body gets the first response again, with Idempotent-Replayed: true.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]+$' },
    }),
  );

/** The replay header, once in components.headers, for every idempotent operation's answers to point at. */
export function addReplayedHeaderComponent(document: OpenAPIObject): void {
  document.components = { ...document.components, headers: { ...document.components?.headers, [REPLAYED_HEADER]: REPLAYED } };
}

/** An @Idempotent() operation's misuse problems, and the replay header on its answers. */
export function documentIdempotency(operation: DocumentedOperation): void {
  if (!operation[IDEMPOTENT_EXTENSION]) return;
  const replayed = { $ref: `#/components/headers/${REPLAYED_HEADER}` };
  const responses = operation.responses;
  for (const [status, response] of Object.entries(responses)) {
    // Guard refusals (401, 429) come before the key is looked at; every other answer may be a replay.
    if (Number(status) < 500 && status !== '401' && status !== '429' && isInline(response)) {
      response.headers = { ...response.headers, [REPLAYED_HEADER]: replayed };
    }
  }
  const add = (status: string, code: 'IDEMPOTENCY_KEY_INVALID' | 'IDEMPOTENCY_KEY_IN_USE' | 'IDEMPOTENCY_KEY_REUSED') => {
    const existing = responses[status];
    responses[status] = { ...existing, ...problemResponse([...new Set([...problemCodesOf(existing), code])]) };
  };
  add('400', 'IDEMPOTENCY_KEY_INVALID');
  add('409', 'IDEMPOTENCY_KEY_IN_USE');
  add('422', 'IDEMPOTENCY_KEY_REUSED');
  const inUse = responses['409'] as ResponseObject;
  inUse.headers = { ...inUse.headers, 'Retry-After': RETRY_AFTER };
}

const REPLAYED = {
  description: 'true when this is the stored response to an earlier request with the same Idempotency-Key',
  schema: { type: 'string' as const, enum: ['true'] },
};
