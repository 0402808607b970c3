import type { INestApplication, Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';

export interface ControllerHandler {
  controller: Type;
  name: string;
  handler: object;
}

/** Every route handler of the app's controllers, for the passes that settle a route's plan at boot. */
export function* controllerHandlers(app: INestApplication): Generator<ControllerHandler> {
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | undefined;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name !== 'constructor' && typeof handler === 'function' && Reflect.hasMetadata(METHOD_METADATA, handler)) yield { controller, name, handler };
      }
    }
  }
}
