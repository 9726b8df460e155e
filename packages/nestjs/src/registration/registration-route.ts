import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import {
  FixedWindowLimiter,
  resolveRegistrationRoute,
} from '@meterkit/core';
import { type MeteringModuleOptions, type ResolvedRegistration } from '../metering-options';

/** The registration route of one MeteringModule: its options and its per-client-address limiter. */
export class RegistrationRoute {
  readonly limiter: FixedWindowLimiter;

  constructor(readonly options: ResolvedRegistration | undefined) {
    this.limiter = new FixedWindowLimiter(options?.rateLimitPerMinute ?? 0);
  }
}

/**
 * Resolves the route once the module's options are known (forRootAsync included) and, when the app has one,
 * maps the controller's handler to POST `path`. Nest reads route metadata when the app initializes, after every
 * provider was created, so the path can come from an async factory.
 */
export function registrationRouteFactory(controller: Type<unknown>, handler: string) {
  return (options: MeteringModuleOptions): RegistrationRoute => {
    const route = new RegistrationRoute(resolveRegistrationRoute(options.registration));
    if (route.options !== undefined) {
      const method = (controller.prototype as Record<string, object>)[handler]!;
      Reflect.defineMetadata(PATH_METADATA, route.options.path, controller);
      Reflect.defineMetadata(PATH_METADATA, '/', method);
      Reflect.defineMetadata(METHOD_METADATA, RequestMethod.POST, method);
    }
    return route;
  };
}
