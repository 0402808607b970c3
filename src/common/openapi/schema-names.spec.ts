import type { OpenAPIObject } from '@nestjs/swagger';
import { describe, expect, it } from 'vitest';
import { operationsOf } from './documented-operation';
import { SchemaNames } from './schema-names';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });

function document(schemas: Record<string, object>, operation: object): OpenAPIObject {
  return { openapi: '3.0.0', info: { title: 't', version: '1' }, paths: { '/x': { post: operation } }, components: { schemas } } as OpenAPIObject;
}

/** SchemaNames as buildOpenApiDocument runs it: settled on each operation, then its components written. */
function nameSchemasAfterDtos(document: OpenAPIObject): OpenAPIObject {
  const names = new SchemaNames(document);
  for (const [, operation] of operationsOf(document)) names.settle(operation);
  names.writeComponents(document);
  return document;
}

const item = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] };
const strictItem = { ...item, additionalProperties: false };

describe('SchemaNames', () => {
  it('renames X_Output to X, in components and every $ref', () => {
    const result = nameSchemasAfterDtos(
      document(
        { Page_Output: { type: 'object', properties: { items: { type: 'array', items: ref('Item_Output') } } }, Item_Output: strictItem },
        {
          responses: { 200: json(ref('Page_Output')) },
        },
      ),
    );
    expect(Object.keys(result.components!.schemas!).sort()).toEqual(['Item', 'Page']);
    expect(result.components!.schemas!.Page).toEqual({ type: 'object', properties: { items: { type: 'array', items: ref('Item') } } });
    expect(result.paths['/x']!.post!.responses[200]).toEqual(json(ref('Page')));
  });

  it('points a response at the output form of a schema, and drops the input twin nothing else uses', () => {
    const result = nameSchemasAfterDtos(
      document({ Item: item, Item_Output: strictItem }, { responses: { 200: json(ref('Item')), 201: json(ref('Item_Output')) } }),
    );
    expect(result.components!.schemas).toEqual({ Item: strictItem });
    expect(result.paths['/x']!.post!.responses[200]).toEqual(json(ref('Item')));
  });

  it('keeps one schema where a request and a response use the same one', () => {
    const enumSchema = { type: 'string', enum: ['A', 'B'] };
    const result = nameSchemasAfterDtos(
      document({ Code: enumSchema, Code_Output: enumSchema }, { requestBody: json(ref('Code')), responses: { 200: json(ref('Code_Output')) } }),
    );
    expect(result.components!.schemas).toEqual({ Code: enumSchema });
  });

  it('refuses one name for a request schema and a different response schema', () => {
    const build = () =>
      nameSchemasAfterDtos(document({ Item: item, Item_Output: strictItem }, { requestBody: json(ref('Item')), responses: { 200: json(ref('Item_Output')) } }));
    expect(build).toThrow(/Item is both a request and a different response schema/);
  });
});
