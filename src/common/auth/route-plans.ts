import { RequestMethod, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import type { ModulesContainer } from '@nestjs/core';
import { IDEMPOTENT } from '../idempotency/idempotent.decorator';
import { AccessPlan, methodOf, planOf, ROUTE_ACCESS, RouteAccess } from './route-access';

/** What the route guard does for one route, settled at boot. */
export interface RoutePlan extends AccessPlan {
  /** An @Idempotent route called with a key is charged once the key is claimed, not in the guard. */
  idempotent: boolean;
}

export interface PlannedRoute {
  controller: Type;
  name: string;
  handler: object;
  method: string;
  path: string;
  plan: RoutePlan;
}

/**
 * Every controller route with its plan. A route with neither @Public() nor @Authenticated() (on
 * itself or its controller) fails here, at boot: deny by default cannot depend on remembering.
 */
export function planRoutes(modules: ModulesContainer): PlannedRoute[] {
  const routes: PlannedRoute[] = [];
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | undefined;
      if (!controller) continue;
      const prefix = (Reflect.getMetadata(PATH_METADATA, controller) as string | undefined) ?? '';
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        const method = name === 'constructor' || typeof handler !== 'function' ? undefined : methodOf(handler);
        if (method === undefined) continue;
        const access = Reflect.getMetadata(ROUTE_ACCESS, handler as object) as RouteAccess | undefined;
        if (!access) throw new Error(`${controller.name}.${name} has neither @Public() nor @Authenticated(): every route says who may call it`);
        const path = (Reflect.getMetadata(PATH_METADATA, handler as object) as string | undefined) ?? '';
        routes.push({
          controller,
          name,
          handler: handler as object,
          method: RequestMethod[method],
          path: `/${[prefix, path].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'),
          plan: { ...planOf(access, method), idempotent: Reflect.getMetadata(IDEMPOTENT, handler as object) === true },
        });
      }
    }
  }
  return routes;
}
