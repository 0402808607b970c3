import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { PlannedRoute, planRoutes } from './route-plans';

export type RouteInfo = Pick<PlannedRoute, 'method' | 'path' | 'plan'> & { handler: string };

/** Every controller route of the app, with the plan the route guard runs for it. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  return planRoutes(app.get(ModulesContainer)).map(({ name, method, path, plan }) => ({ handler: name, method, path, plan }));
}
