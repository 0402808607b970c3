import type { INestApplication } from '@nestjs/common';
import { PlannedRoute, planRoutes } from '../auth/route-plans';
import { appControllerHandlers } from './controller-handlers';

export type RouteInfo = Pick<PlannedRoute, 'method' | 'path' | 'plan'> & { handler: string };

/** Every controller route of the app, with the plan the route guard runs for it. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  return planRoutes(appControllerHandlers(app)).map(({ name, method, path, plan }) => ({ handler: name, method, path, plan }));
}
