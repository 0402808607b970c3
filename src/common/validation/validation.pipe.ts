import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { createZodValidationPipe } from 'nestjs-zod';
import { ZodError } from 'zod';
import { fieldIssue, invalidFields } from '../errors/field-issues';
import { findUncleanStrings } from './clean-strings';
import { zodIssuesToFieldIssues } from './validation-issues';

const ZodPipe = createZodValidationPipe({
  createValidationException: (error) => invalidFields(error instanceof ZodError ? zodIssuesToFieldIssues(error) : [], error),
});

function refuseAnyParameter(query: unknown): undefined {
  const unknown = Object.keys((query as Record<string, unknown> | undefined) ?? {});
  if (unknown.length === 0) return undefined;
  throw invalidFields(unknown.map((field) => fieldIssue(field, 'UNRECOGNIZED_KEY', { fallback: 'Unknown field' })));
}

/**
 * The global pipe: refuses strings Postgres cannot hold, then validates against the parameter's
 * zod DTO, and refuses any parameter in a query the handler has no schema for. Every failure is
 * VALIDATION_FAILED with one entry per field.
 */
@Injectable()
export class ValidationPipe implements PipeTransform {
  private readonly zod = new ZodPipe();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    // The untyped query given to handlers that declare none (refuseQueriesNoHandlerDeclares).
    if (metadata.type === 'query' && metadata.data === undefined && metadata.metatype === undefined) return refuseAnyParameter(value);
    // A POST without a body is validated as `{}`: the schema decides whether that is enough.
    if (metadata.type === 'body' && value === undefined) value = {};
    const prefix = metadata.type === 'param' || metadata.type === 'query' ? metadata.data : undefined;
    const unclean = findUncleanStrings(value, prefix ? [prefix] : []);
    if (unclean.length > 0) throw invalidFields(unclean);
    return this.zod.transform(value, metadata);
  }
}
