import { INestApplication, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { ALLOW_INACTIVE } from '../auth/active-account';
import { IS_PUBLIC } from '../auth/public.decorator';
import { ALLOW_VERIFY_KEY } from '../auth/roles';
import { UNMETERED } from '../metering/metered.decorator';
import { SKIP_RATE_LIMIT } from '../throttling/rate-limit.decorator';

export interface RouteInfo {
  handler: string;
  method: string;
  path: string;
  isPublic: boolean;
  allowInactive: boolean;
  /** Open to a verify-scope API key (@AllowVerifyKey). */
  allowVerifyKey: boolean;
  skipRateLimit: boolean;
  /** Never counted against the free tier's daily cap (@Unmetered). */
  unmetered: boolean;
}

/** Every controller route of the app, with the guard-chain metadata that decides how it is treated. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      if (!controller) continue;
      const prefix = (Reflect.getMetadata(PATH_METADATA, controller) as string | undefined) ?? '';
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const path = (Reflect.getMetadata(PATH_METADATA, handler) as string | undefined) ?? '';
        const flag = (key: string) => Boolean(Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, controller));
        routes.push({
          handler: name,
          method: RequestMethod[method],
          path: `/${[prefix, path].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'),
          isPublic: flag(IS_PUBLIC),
          allowInactive: flag(ALLOW_INACTIVE),
          allowVerifyKey: flag(ALLOW_VERIFY_KEY),
          skipRateLimit: flag(SKIP_RATE_LIMIT),
          unmetered: flag(UNMETERED),
        });
      }
    }
  }
  return routes;
}
