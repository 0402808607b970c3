import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { INestApplication } from '@nestjs/common';
import { FASTIFY_ROUTE_SCHEMA_METADATA } from '@nestjs/platform-fastify/constants';
import { z } from 'zod';
import { appControllerHandlers } from './controller-handlers';

/** nestjs-zod's metadata key for the type @ZodResponse declares (its ZodSerializerDto). */
const ZOD_RESPONSE_TYPE = 'ZOD_SERIALIZER_DTO_OPTIONS';

type ZodDtoLike = { schema: z.ZodType } | z.ZodType;
type ResponseType = ZodDtoLike | [ZodDtoLike];

interface RouteSchema {
  response?: Record<string, unknown>;
  [key: string]: unknown;
}

// Descriptions and examples are for the docs; the serializer needs only the shape.
const NO_METADATA = z.registry<Record<string, unknown>>();

const schemaOf = (type: ZodDtoLike): z.ZodType => ('schema' in type ? type.schema : type);

/**
 * What the serializer needs from zod's JSON Schema, which writes `additionalProperties: false` on
 * every object. fast-json-stringify writes only the
 * declared properties either way, but where it must pick an `anyOf` branch it validates the value
 * against each one (ajv), and there `false` would refuse an object carrying one undeclared field
 * instead of leaving the field out, as zod's parse did. Without it a branch is chosen as zod
 * chooses one (the first whose declared fields fit), and the field is still not written.
 */
function forSerializer(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forSerializer);
  if (node === null || typeof node !== 'object') return node;
  const schema = Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'additionalProperties' && value === false))
      .map(([key, value]) => [key, forSerializer(value)]),
  );
  // OpenAPI 3.0 wants null listed in a nullable enum, and ajv holds it to that: zod leaves it out.
  if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...(schema.enum as unknown[]), null];
  return schema;
}

/**
 * The JSON Schema Fastify compiles a route's serializer from: the zod output schema of what
 * @ZodResponse declares. OpenAPI 3.0's `nullable: true` instead of `anyOf [X, null]`, because
 * fast-json-stringify picks an `anyOf` branch by validating the value against each one (ajv, on
 * every response), while `nullable` is a plain null check.
 */
export function serializerSchemaOf(type: ResponseType): object {
  const schema = Array.isArray(type) ? schemaOf(type[0]).array() : schemaOf(type);
  return forSerializer(z.toJSONSchema(schema, { io: 'output', target: 'openapi-3.0', metadata: NO_METADATA, reused: 'inline' })) as object;
}

/**
 * Before the routes are registered: every route that declares its answer with @ZodResponse gets
 * it as the Fastify response schema of its 2xx statuses, so Fastify's compiled serializer
 * (fast-json-stringify) writes the answer, and fields nobody declared are left out, without a
 * zod parse and an rxjs interceptor on every request. Errors are sent as problem+json strings,
 * which Fastify does not serialize again.
 */
export function serializeResponsesBySchema(app: INestApplication): void {
  for (const { controller, handler } of appControllerHandlers(app)) {
    const type = (Reflect.getMetadata(ZOD_RESPONSE_TYPE, handler) ?? Reflect.getMetadata(ZOD_RESPONSE_TYPE, controller)) as ResponseType | undefined;
    if (!type) continue;
    const own = (Reflect.getMetadata(FASTIFY_ROUTE_SCHEMA_METADATA, handler) ?? {}) as RouteSchema;
    Reflect.defineMetadata(FASTIFY_ROUTE_SCHEMA_METADATA, { ...own, response: { '2xx': serializerSchemaOf(type), ...own.response } }, handler);
  }
}

type SerializerFactory = ReturnType<typeof SerializerSelector>;
type RouteSerializerCompiler = ReturnType<SerializerFactory>;

/** The serializers each app defers, for compileDeferredSerializers(app). */
const deferredByApp = new WeakMap<object, DeferredSerializers>();

/**
 * Fastify compiles every route's response serializer (fast-json-stringify, 100-odd routes) while
 * the server starts: a fifth of the start-up CPU once the code itself is cached. This compiler
 * hands Fastify one that compiles on the route's first answer instead, and compileAll() compiles
 * the rest soon after the server listens (server.ts), a route per turn of the event loop, so a
 * schema that cannot compile is reported within a second of start, not at its first request. The
 * serializer written is the same one Fastify's default factory makes.
 */
export class DeferredSerializers {
  private readonly pending = new Set<() => unknown>();

  /** For Fastify's `schemaController.compilersFactory.buildSerializer`. */
  readonly factory = ((externalSchemas: unknown, options: unknown) => {
    const compile = (SerializerSelector() as (schemas: unknown, options: unknown) => RouteSerializerCompiler)(externalSchemas, options);
    return ((route: Parameters<RouteSerializerCompiler>[0]) => {
      let serialize: ((data: unknown) => string) | undefined;
      const build = () => {
        serialize ??= compile(route) as (data: unknown) => string;
        this.pending.delete(build);
        return serialize;
      };
      this.pending.add(build);
      return (data: unknown) => (serialize ?? build())(data);
    }) as RouteSerializerCompiler;
  }) as unknown as SerializerFactory;

  /** Compiles every serializer no answer has needed yet; rejects with the first that fails. */
  async compileAll(): Promise<void> {
    for (const build of [...this.pending]) {
      build();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Registers these as `app`'s, for compileDeferredSerializers(app). */
  belongTo(app: object): void {
    deferredByApp.set(app, this);
  }
}

/** Compiles the serializers `app` deferred (see DeferredSerializers). */
export function compileDeferredSerializers(app: object): Promise<void> {
  return deferredByApp.get(app)?.compileAll() ?? Promise.resolve();
}
