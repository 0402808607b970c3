import type { INestApplication } from '@nestjs/common';
import { appControllerHandlers } from '../http/controller-handlers';
import { PlannedRoute, planRoutes } from './route-plans';

export type RouteInfo = Pick<PlannedRoute, 'method' | 'path' | 'plan'> & { handler: string };

/** Every controller route of the app, with the plan the route guard runs for it. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  return planRoutes(appControllerHandlers(app)).map(({ name, method, path, plan }) => ({ handler: name, method, path, plan }));
}
