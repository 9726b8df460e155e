import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import {
  LifecycleReceiver,
  resolveLifecycleRoute,
  type Metering,
} from '@meterkit/core';
import { type MeteringModuleOptions } from '../metering-options';

/** The lifecycle route of one MeteringModule: the core's receiver, or none when the app configures no route. */
export class LifecycleRoute {
  constructor(readonly receiver: LifecycleReceiver | undefined) {}
}

/**
 * Creates the receiver once the module's options are known (forRootAsync included) and, when the app has a route,
 * maps the controller's handler to POST `path` (Nest reads route metadata after every provider was created).
 */
export function lifecycleRouteFactory(controller: Type<unknown>, handler: string) {
  return (options: MeteringModuleOptions, metering: Metering): LifecycleRoute => {
    const resolved = resolveLifecycleRoute(options.lifecycle);
    if (resolved === undefined) return new LifecycleRoute(undefined);
    const method = (controller.prototype as Record<string, object>)[handler]!;
    Reflect.defineMetadata(PATH_METADATA, resolved.path, controller);
    Reflect.defineMetadata(PATH_METADATA, '/', method);
    Reflect.defineMetadata(METHOD_METADATA, RequestMethod.POST, method);
    return new LifecycleRoute(new LifecycleReceiver(metering, resolved));
  };
}
