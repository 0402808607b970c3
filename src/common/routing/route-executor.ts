import type { ExceptionFilter, INestApplication, Type } from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  EXCEPTION_FILTERS_METADATA,
  FILTER_CATCH_EXCEPTIONS,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  PARAMTYPES_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  RESPONSE_PASSTHROUGH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { DiscoveryService } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { GuardedRoute, RouteGuard } from '../auth/route.guard';
import { planRoutes } from '../auth/route-plans';
import { ProblemWriter } from '../errors/problem-writer';
import { routeInputsOf } from '../validation/route-inputs';
import { ValidationPipe } from '../validation/validation.pipe';
import { appControllerHandlers, ControllerHandler } from '../http/controller-handlers';

// Nest's metadata keys, RouteParamtypes, the decorators' metadata shapes and ExecutionContextHost are
// deep imports, no public API: nest-internals.spec.ts pins them to the @nestjs/core, @nestjs/common
// and @nestjs/platform-fastify versions this file was checked against, and fails when an upgrade changes them.

/** The route config key that names a Fastify route's controller handler (set at boot, read in onRoute). */
const HANDLED_BY = 'gatehouseHandler';

declare module 'fastify' {
  interface FastifyContextConfig {
    gatehouseHandler?: ControllerHandler;
  }
}

interface ArgMetadata {
  index: number;
  data?: unknown;
  pipes?: unknown[];
  factory?: (data: unknown, context: ExecutionContextHost) => unknown;
}

/** How one handler argument is taken from the request, and whether the global pipe checks it. */
interface Argument {
  index: number;
  extract: (request: FastifyRequest, reply: FastifyReply) => unknown;
  /** Body, query and path inputs go through the global pipe (zod); the rest are passed as they are. */
  pipe?: { type: 'body' | 'query' | 'param'; data: string | undefined; metatype: Type | undefined };
}

/** A filter declared on the route or its controller (@UseFilters), with the exceptions it catches. */
interface RouteFilter {
  filter: ExceptionFilter;
  catches: Type[];
}

const PIPED = { [RouteParamtypes.BODY]: 'body', [RouteParamtypes.QUERY]: 'query', [RouteParamtypes.PARAM]: 'param' } as const;

/**
 * `@Body('x')` and its kin read the input's own property, as Nest does: never one it inherits
 * (`@Body('constructor')` on `{}`, or `length` of an array body).
 */
function ownField(input: unknown, field: string): unknown {
  return typeof input === 'object' && input !== null && Object.hasOwn(input, field) ? (input as Record<string, unknown>)[field] : undefined;
}

/** What Nest's route-params factory hands each built-in parameter decorator (the subset the app uses). */
function extractorOf(type: RouteParamtypes, data: unknown): Argument['extract'] | undefined {
  const field = typeof data === 'string' ? data : undefined;
  switch (type) {
    case RouteParamtypes.REQUEST:
      return (request) => request;
    case RouteParamtypes.BODY:
      return field ? (request) => ownField(request.body, field) : (request) => request.body;
    case RouteParamtypes.QUERY:
      return field ? (request) => ownField(request.query, field) : (request) => request.query;
    case RouteParamtypes.PARAM:
      return field ? (request) => ownField(request.params, field) : (request) => request.params;
    case RouteParamtypes.HEADERS:
      return field ? (request) => ownField(request.headers, field.toLowerCase()) : (request) => request.headers;
    case RouteParamtypes.IP:
      return (request) => request.ip;
    default:
      return undefined;
  }
}

/**
 * Serves every controller route with a handler compiled at boot, in place of Nest's per-request
 * execution context: the one route guard, then the route's status and headers, its arguments
 * (body, query and path inputs through the global validation pipe), the controller method, and
 * the answer through Fastify's compiled serializer. What Nest would look up or build on each
 * request (guards, pipes, interceptors, filters, parameter metadata) is read once here, and a
 * request allocates no rxjs, no execution context and no pipe chain (Nest's handler cost about
 * 20 µs and 13 KB of a license validation).
 *
 * Only what the app's controllers use is supported, and anything else fails the boot rather than
 * being served differently: route-level guards, pipes and interceptors, @Redirect, @Render and
 * @Sse. Errors go to the route's own exception filters (@UseFilters, e.g. the idempotent replay),
 * else to ProblemWriter, as Nest's filter chain did.
 */
export class RouteExecutor {
  private readonly pipe = new ValidationPipe();
  private readonly instances = new Map<Type, object>();

  constructor(
    private readonly guard: RouteGuard,
    private readonly problems: ProblemWriter,
    discovery: DiscoveryService,
  ) {
    for (const wrapper of discovery.getControllers()) {
      // A request-scoped controller's instance is a placeholder without its dependencies: not kept, so compile() refuses it.
      if (wrapper.metatype && wrapper.instance && wrapper.isDependencyTreeStatic()) this.instances.set(wrapper.metatype as Type, wrapper.instance as object);
    }
  }

  /** Before the routes are registered: marks each route with its handler, and compiles it as Fastify registers it. */
  install(app: INestApplication, fastify: FastifyInstance): void {
    const routes = planRoutes(appControllerHandlers(app));
    for (const handler of routes) {
      const own = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler.handler) ?? {}) as Record<string, unknown>;
      // One function, one route: an inherited route method shared by two controllers would run on one of them.
      // (Another app of this process, a test's, marks the same function for the same controller.)
      const marked = own[HANDLED_BY] as ControllerHandler | undefined;
      if (marked && marked.controller !== handler.controller) {
        throw new Error(`${handler.controller.name}.${handler.name} is also ${marked.controller.name}'s route`);
      }
      Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...own, [HANDLED_BY]: handler }, handler.handler);
    }
    const served = new Set<string>();
    servedRoutes.set(fastify, served);
    fastify.addHook('onRoute', (route: RouteOptions) => {
      const target = route.config?.[HANDLED_BY];
      if (!target) return;
      route.handler = this.compile(target, route.url.includes(':'));
      for (const method of [route.method].flat()) served.add(`${method} ${route.url}`);
    });
    // Fail closed at start: a controller route Fastify serves without a compiled handler would run
    // Nest's pipeline, where UncompiledRouteGuard refuses every request; say so before listening.
    fastify.addHook('onReady', (done) => {
      const missing = routes
        .flatMap(({ method, path }) => (method === 'GET' ? ['GET', 'HEAD'] : [method]).map((each) => `${each} ${path}`))
        .filter((route) => !served.has(route));
      done(missing.length > 0 ? new Error(`Routes not compiled by RouteExecutor (deny by default): ${missing.join(', ')}`) : undefined);
    });
  }

  /** The Fastify handler of one controller route. */
  compile(target: ControllerHandler, hasParams: boolean): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
    const { controller, name, handler } = target;
    const where = `${controller.name}.${name}`;
    const instance = this.instances.get(controller);
    if (!instance) throw new Error(`${where}: no controller instance (a request-scoped controller is not supported)`);
    for (const key of [GUARDS_METADATA, PIPES_METADATA, INTERCEPTORS_METADATA]) {
      if ((Reflect.getMetadata(key, handler) as unknown[] | undefined)?.length || (Reflect.getMetadata(key, controller) as unknown[] | undefined)?.length) {
        throw new Error(`${where}: route-level ${key} are not supported; the route guard and the global pipe serve every route`);
      }
    }
    for (const key of [REDIRECT_METADATA, RENDER_METADATA, SSE_METADATA]) {
      if (Reflect.getMetadata(key, handler) !== undefined) throw new Error(`${where}: ${key} is not supported`);
    }
    const [planned] = planRoutes([target]);
    if (!planned) throw new Error(`${where} is not a route`);
    const guarded: GuardedRoute = { plan: planned.plan, inputs: routeInputsOf(controller, name) };
    const status = (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? (planned.method === 'POST' ? 201 : 200);
    const headers = Object.fromEntries(
      ((Reflect.getMetadata(HEADERS_METADATA, handler) ?? []) as { name: string; value: string }[]).map(({ name: header, value }) => [header, value]),
    );
    const hasHeaders = Object.keys(headers).length > 0;
    const args = this.argumentsOf(controller, name, handler, where);
    const length = args.reduce((most, { index }) => Math.max(most, index + 1), 0);
    const handlesReply = args.some(({ extract }) => extract === RESPONSE) && Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, name) !== true;
    const filters = this.filtersOf(controller, handler, where);
    const method = handler as (...values: unknown[]) => unknown;
    const pipe = this.pipe;
    const guard = this.guard;

    const fail = (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
      for (const { filter, catches } of filters) {
        if (catches.length === 0 || catches.some((type) => error instanceof type)) {
          filter.catch(error, new ExecutionContextHost([request, reply]));
          return reply;
        }
      }
      this.problems.send(error, request, reply);
      return reply;
    };

    async function serve(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
      // As Nest's adapter: "/users//x" matches no route with a parameter (find-my-way would give "").
      if (hasParams && hasEmptyParam(request.params)) {
        reply.callNotFound();
        return reply;
      }
      try {
        await guard.admit(guarded, request, reply);
        void reply.status(status);
        if (hasHeaders) void reply.headers(headers);
        const values = new Array<unknown>(length);
        // Every value is taken before any is validated, and they are validated in declaration order, as in Nest.
        for (const argument of args) values[argument.index] = argument.extract(request, reply);
        for (const argument of args) if (argument.pipe) values[argument.index] = pipe.transform(values[argument.index], argument.pipe);
        const result = await method.apply(instance, values);
        if (!handlesReply && !reply.sent) return reply.send(result);
        return reply;
      } catch (error) {
        return fail(error, request, reply);
      }
    }
    return serve;
  }

  private argumentsOf(controller: Type, name: string, handler: object, where: string): Argument[] {
    const metadata = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, ArgMetadata>;
    const paramtypes = (Reflect.getMetadata(PARAMTYPES_METADATA, controller.prototype as object, name) ?? []) as (Type | undefined)[];
    return Object.entries(metadata).map(([key, { index, data, pipes, factory }]): Argument => {
      if (pipes?.length) throw new Error(`${where}: parameter pipes are not supported; the global pipe validates every input`);
      if (key.includes(CUSTOM_ROUTE_ARGS_METADATA)) {
        if (!factory) throw new Error(`${where}: custom parameter ${key} has no factory`);
        return { index, extract: (request, reply) => factory(data, new ExecutionContextHost([request, reply], controller, handler as () => unknown)) };
      }
      const type = Number(key.split(':')[0]) as RouteParamtypes;
      const extract = type === RouteParamtypes.RESPONSE ? RESPONSE : extractorOf(type, data);
      if (!extract) throw new Error(`${where}: parameter decorator ${RouteParamtypes[type]} is not supported`);
      const piped = PIPED[type as keyof typeof PIPED];
      return piped
        ? { index, extract, pipe: { type: piped, data: typeof data === 'string' ? data : undefined, metatype: paramtypes[index] } }
        : { index, extract };
    });
  }

  private filtersOf(controller: Type, handler: object, where: string): RouteFilter[] {
    // Tried in Nest's order: the method's filters before the controller's, the last declared first.
    const declared = [
      ...((Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, controller) ?? []) as unknown[]),
      ...((Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, handler) ?? []) as unknown[]),
    ].reverse();
    return declared.map((entry) => {
      const filter = typeof entry === 'function' ? (entry as Type<ExceptionFilter>) : undefined;
      if (filter && filter.length > 0) throw new Error(`${where}: exception filter ${filter.name} takes dependencies; pass an instance`);
      const instance = filter ? new filter() : (entry as ExceptionFilter);
      const catches = (Reflect.getMetadata(FILTER_CATCH_EXCEPTIONS, instance.constructor) ?? []) as Type[];
      return { filter: instance, catches };
    });
  }
}

const RESPONSE: Argument['extract'] = (_request, reply) => reply;

/** The routes (`METHOD /url`) of each Fastify instance that RouteExecutor gave a compiled handler. */
const servedRoutes = new WeakMap<FastifyInstance, Set<string>>();
/** For the route walk: every controller route must be here (its HEAD too), served by a compiled handler. */
export const routesServedBy = (fastify: FastifyInstance): ReadonlySet<string> => servedRoutes.get(fastify) ?? new Set();

function hasEmptyParam(params: unknown): boolean {
  const values = params as Record<string, string>;
  for (const name in values) if (values[name] === '' && name !== '*') return true;
  return false;
}
