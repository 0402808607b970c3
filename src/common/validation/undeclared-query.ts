import type { INestApplication } from '@nestjs/common';
import { PARAMTYPES_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { appControllerHandlers } from '../http/controller-handlers';

/**
 * Query schemas are strict, so an unknown parameter is a 422 naming it. A handler that declares
 * no query at all has no schema to be strict: before the routes are registered, each one is
 * given an `@Query()` argument after its own, with no type, which the global pipe refuses unless
 * it is empty (ValidationPipe). The refusal then comes where every other input's does, after
 * the guards (an unauthenticated caller still gets 401 first), and the route guard's early
 * check (assertValidInputs) sees the same input and refuses it the same way.
 */
export function refuseQueriesNoHandlerDeclares(app: INestApplication): void {
  for (const { controller, name } of appControllerHandlers(app)) {
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, { index: number; data?: unknown; pipes?: unknown[] }>;
    const keys = Object.keys(args);
    if (keys.some((key) => key.split(':')[0] === String(RouteParamtypes.QUERY))) continue;
    const paramtypes = (Reflect.getMetadata(PARAMTYPES_METADATA, controller.prototype as object, name) ?? []) as unknown[];
    const next = Math.max(paramtypes.length, ...Object.values(args).map(({ index }) => index + 1));
    // What @Query() would write, but first: Nest's pipes run in this order, and an unknown
    // parameter was refused before the other inputs were looked at.
    const query = { index: next, data: undefined, pipes: [] };
    Reflect.defineMetadata(ROUTE_ARGS_METADATA, { [`${RouteParamtypes.QUERY}:${next}`]: query, ...args }, controller, name);
  }
}
