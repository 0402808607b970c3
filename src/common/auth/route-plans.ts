import { RequestMethod } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import type { ControllerHandler } from '../http/controller-handlers';
import { IDEMPOTENT } from '../idempotency/idempotent.decorator';
import { AccessPlan, methodOf, planOf, ROUTE_ACCESS, RouteAccess } from './route-access';

/** What the route guard does for one route, settled at boot. */
export interface RoutePlan extends AccessPlan {
  /** An @Idempotent route called with a key is charged once the key is claimed, not in the guard. */
  idempotent: boolean;
}

export interface PlannedRoute extends ControllerHandler {
  method: string;
  path: string;
  plan: RoutePlan;
}

/**
 * Every controller route with its plan. A route with neither @Public() nor @Authenticated() (on
 * itself or its controller) fails here, at boot: deny by default cannot depend on remembering.
 */
export function planRoutes(handlers: Iterable<ControllerHandler>): PlannedRoute[] {
  const routes: PlannedRoute[] = [];
  for (const { controller, name, handler } of handlers) {
    const method = methodOf(handler);
    if (method === undefined) continue;
    const access = Reflect.getMetadata(ROUTE_ACCESS, handler) as RouteAccess | undefined;
    if (!access) throw new Error(`${controller.name}.${name} has neither @Public() nor @Authenticated(): every route says who may call it`);
    const prefix = (Reflect.getMetadata(PATH_METADATA, controller) as string | undefined) ?? '';
    const path = (Reflect.getMetadata(PATH_METADATA, handler) as string | undefined) ?? '';
    routes.push({
      controller,
      name,
      handler,
      method: RequestMethod[method],
      path: `/${[prefix, path].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'),
      plan: { ...planOf(access, method), idempotent: Reflect.getMetadata(IDEMPOTENT, handler) === true },
    });
  }
  return routes;
}
