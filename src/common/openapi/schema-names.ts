import { isDeepStrictEqual } from 'node:util';
import type { OpenAPIObject } from '@nestjs/swagger';

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
 */
export function nameSchemasAfterDtos(document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas;
  if (!schemas) return document;

  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item as Record<string, { responses?: Record<string, unknown> }>)) {
      if (!operation?.responses) continue;
      operation.responses = mapRefs(operation.responses, (name) => (schemas[name + OUTPUT_SUFFIX] ? name + OUTPUT_SUFFIX : name)) as Record<string, unknown>;
    }
  }

  const { components, ...rest } = document;
  const reachable = refsIn({ ...rest, components: { ...components, schemas: {} } });
  for (const pending = [...reachable]; pending.length > 0;) {
    for (const name of refsIn(schemas[pending.pop()!])) {
      if (reachable.has(name)) continue;
      reachable.add(name);
      pending.push(name);
    }
  }
  for (const name of Object.keys(schemas)) if (!reachable.has(name)) delete schemas[name];

  const rename = (name: string) => (name.endsWith(OUTPUT_SUFFIX) ? name.slice(0, -OUTPUT_SUFFIX.length) : name);
  const renamed: typeof schemas = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const target = rename(name);
    const other = renamed[target];
    const normalized = mapRefs(schema, rename) as (typeof schemas)[string];
    if (other && !isDeepStrictEqual(other, normalized)) {
      throw new Error(`OpenAPI: schema ${target} is both a request and a different response schema; give one of them its own id`);
    }
    renamed[target] = normalized;
  }
  document.components!.schemas = renamed;
  document.paths = mapRefs(document.paths, rename) as OpenAPIObject['paths'];
  return document;
}
