import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * Set in a request schema's meta to name the fields of which a body gives exactly one, e.g.
 * `.meta({ id: 'TwoFactorVerifyRequest', [EXACTLY_ONE_OF]: ['code', 'recoveryCode'] })`. The zod
 * schema keeps them optional and checks the rule itself, so a wrong body gets one readable error
 * on the field to fix; the spec states the rule as JSON Schema's oneOf.
 */
export const EXACTLY_ONE_OF = 'x-exactly-one-of';

interface ObjectSchema {
  [EXACTLY_ONE_OF]?: string[];
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: unknown;
  [annotation: string]: unknown;
}

/**
 * Each component naming `x-exactly-one-of` fields becomes a oneOf of whole objects, one per field:
 * the shared properties, that field, and no other of the set. Generators of clients and example
 * bodies then produce one of the valid shapes (a generated client gets a union type), which a
 * oneOf of bare `required` lists does not give them.
 */
export function expandExactlyOneOf(document: OpenAPIObject): OpenAPIObject {
  const schemas = (document.components?.schemas ?? {}) as Record<string, ObjectSchema>;
  for (const [name, schema] of Object.entries(schemas)) {
    const { [EXACTLY_ONE_OF]: fields, type, properties = {}, required = [], additionalProperties, ...annotations } = schema;
    if (!fields) continue;
    if (type !== 'object' || fields.some((field) => !(field in properties))) throw new Error(`${name}: ${EXACTLY_ONE_OF} names fields it does not have`);
    schemas[name] = {
      ...annotations,
      oneOf: fields.map((field) => ({
        type: 'object',
        properties: Object.fromEntries(Object.entries(properties).filter(([key]) => key === field || !fields.includes(key))),
        required: [...required, field],
        additionalProperties,
      })),
    };
  }
  return document;
}
