import { isDeepStrictEqual } from 'node:util';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { DocumentedOperation } from './documented-operation';

const SCHEMA_REF = '#/components/schemas/';
/** nestjs-zod 5.5 names the output form of a schema `<id>_Output`, with no option to turn it off. */
const OUTPUT_SUFFIX = '_Output';

type Json = unknown;

function mapRefs(node: Json, map: (name: string) => string): Json {
  if (Array.isArray(node)) return node.map((item) => mapRefs(item, map));
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMA_REF)
        ? [key, SCHEMA_REF + map(value.slice(SCHEMA_REF.length))]
        : [key, mapRefs(value, map)],
    ),
  );
}

function refsIn(node: Json): Set<string> {
  const found = new Set<string>();
  mapRefs(node, (name) => {
    found.add(name);
    return name;
  });
  return found;
}

/**
 * Names every component schema after its DTO's id, with no `_Output` suffix and no twin:
 * 1. a response is what the server sends, so a response that points at the input form of a schema
 *    (a plain `@ApiResponse({ type })`) points at its output form instead;
 * 2. schemas nothing references any more (those input forms) are dropped;
 * 3. `X_Output` becomes `X`. Where a request still uses an input `X`, the two must be the same
 *    schema (then one is kept); if they differ the build fails, as two meanings of one name would
 *    give a generated client one type for both.
 *
 * A step of the document's one pass over the operations: `settle` on each operation, after its
 * other steps (once its responses point at the schemas they use); `writeComponents` once, after all
 * of them. The operations are the only part of `paths` with references (path items carry none of
 * their own).
 */
export class SchemaNames {
  private readonly schemas: Record<string, Json> | undefined;
  /** The schemas the settled operations reference, by their names before renaming. */
  private readonly used = new Set<string>();

  constructor(document: OpenAPIObject) {
    this.schemas = document.components?.schemas;
  }

  settle(operation: DocumentedOperation): void {
    const schemas = this.schemas;
    if (!schemas) return;
    if (operation.responses) {
      operation.responses = mapRefs(operation.responses, (name) =>
        schemas[name + OUTPUT_SUFFIX] ? name + OUTPUT_SUFFIX : name,
      ) as DocumentedOperation['responses'];
    }
    for (const name of refsIn(operation)) this.used.add(name);
    // Same keys, so each keeps its place.
    Object.assign(operation, mapRefs(operation, rename) as DocumentedOperation);
  }

  writeComponents(document: OpenAPIObject): void {
    const schemas = this.schemas;
    if (!schemas) return;
    const { components, paths: _settled, ...rest } = document;
    const reachable = new Set([...this.used, ...refsIn({ ...rest, components: { ...components, schemas: {} } })]);
    for (const pending = [...reachable]; pending.length > 0;) {
      for (const name of refsIn(schemas[pending.pop()!])) {
        if (reachable.has(name)) continue;
        reachable.add(name);
        pending.push(name);
      }
    }
    for (const name of Object.keys(schemas)) if (!reachable.has(name)) delete schemas[name];

    const renamed: typeof schemas = {};
    for (const [name, schema] of Object.entries(schemas)) {
      const target = rename(name);
      const other = renamed[target];
      const normalized = mapRefs(schema, rename);
      if (other && !isDeepStrictEqual(other, normalized)) {
        throw new Error(`OpenAPI: schema ${target} is both a request and a different response schema; give one of them its own id`);
      }
      renamed[target] = normalized;
    }
    document.components!.schemas = renamed as NonNullable<OpenAPIObject['components']>['schemas'];
  }
}

const rename = (name: string) => (name.endsWith(OUTPUT_SUFFIX) ? name.slice(0, -OUTPUT_SUFFIX.length) : name);
