import type { INestApplication, Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';

export interface ControllerHandler {
  controller: Type;
  name: string;
  handler: object;
}

/**
 * Every route handler of the app's controllers (inherited ones too, as Nest's router sees them),
 * found through Nest's public DiscoveryService and MetadataScanner, for the passes that settle a
 * route's plan at boot.
 */
export function* controllerHandlers(discovery: DiscoveryService, scanner: MetadataScanner): Generator<ControllerHandler> {
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as Type | null;
    if (!controller) continue;
    const prototype = controller.prototype as Record<string, object>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name]!;
      if (Reflect.hasMetadata(METHOD_METADATA, handler)) yield { controller, name, handler };
    }
  }
}

/** `controllerHandlers` for code that holds the app rather than an injector (DiscoveryModule is imported by AuthCoreModule). */
export const appControllerHandlers = (app: INestApplication): Generator<ControllerHandler> =>
  controllerHandlers(app.get(DiscoveryService), app.get(MetadataScanner));
