import type { OpenAPIObject, OperationObject, ReferenceObject, ResponseObject } from '@nestjs/swagger';

/** Written by @IntegrationErrors() (errors/integration-problem-writer.ts) and @Idempotent(). */
type OperationExtensions = { 'x-problem-format'?: string; 'x-idempotent'?: boolean };

/** An operation as the document passes read it: the extensions our decorators write are typed. */
export type DocumentedOperation = OperationObject & OperationExtensions;

/** A response written out here, not a `$ref` to a shared one. */
export const isInline = (response: ResponseObject | ReferenceObject | undefined): response is ResponseObject => !!response && !('$ref' in response);

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Every operation of the document, with its path, in path then method order. */
export function* operationsOf(document: OpenAPIObject): Generator<[path: string, operation: DocumentedOperation]> {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) yield [path, operation];
    }
  }
}
