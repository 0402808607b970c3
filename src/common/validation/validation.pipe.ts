import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { createZodValidationPipe } from 'nestjs-zod';
import { ZodError } from 'zod';
import { DomainError } from '../errors/domain-error';
import { findUncleanStrings } from './clean-strings';
import { zodIssuesToFieldIssues } from './validation-issues';

const ZodPipe = createZodValidationPipe({
  createValidationException: (error) =>
    new DomainError('VALIDATION_FAILED', {
      errors: error instanceof ZodError ? zodIssuesToFieldIssues(error) : [],
      cause: error,
    }),
});

/**
 * The global pipe: refuses strings Postgres cannot hold, then validates against the parameter's
 * zod DTO. Every failure is VALIDATION_FAILED with one entry per field.
 */
@Injectable()
export class ValidationPipe implements PipeTransform {
  private readonly zod = new ZodPipe();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    // A POST without a body is validated as `{}`: the schema decides whether that is enough.
    if (metadata.type === 'body' && value === undefined) value = {};
    const prefix = metadata.type === 'param' || metadata.type === 'query' ? metadata.data : undefined;
    const unclean = findUncleanStrings(value, prefix ? [prefix] : []);
    if (unclean.length > 0) throw new DomainError('VALIDATION_FAILED', { errors: unclean });
    return this.zod.transform(value, metadata);
  }
}
