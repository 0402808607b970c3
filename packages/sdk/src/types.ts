import type { components, operations } from './generated/openapi.js';

export type { components, operations, paths } from './generated/openapi.js';

/** A schema of the spec by name: `Schema<'Product'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

/** Every operationId of the spec. */
export type OperationId = keyof operations;

type JsonContent<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON request body an operation takes (never when it takes none). */
export type RequestBody<Op extends OperationId> = JsonContent<NonNullable<operations[Op]['requestBody']>>;

/** The query parameters an operation takes. */
export type QueryParams<Op extends OperationId> = NonNullable<operations[Op]['parameters']['query']>;

/** The body of an operation's success answer (200, else 201); void for 202/204 without one. */
export type ResponseBody<Op extends OperationId> = operations[Op]['responses'] extends infer R
  ? R extends { 200: infer Ok }
    ? JsonContent<Ok>
    : R extends { 201: infer Created }
      ? JsonContent<Created>
      : R extends { 202: infer Accepted }
        ? JsonContent<Accepted> extends never
          ? void
          : JsonContent<Accepted>
        : void
  : never;

export type ErrorCode = Schema<'ErrorCode'>;
export type ProblemDetails = Schema<'ProblemDetails'>;
export type FieldError = Schema<'FieldError'>;
export type WebhookEvent = Schema<'WebhookEvent'>;
export type Product = Schema<'Product'>;
export type License = Schema<'License'>;
export type ApiKey = Schema<'ApiKey'>;
export type Session = Schema<'Session'>;
