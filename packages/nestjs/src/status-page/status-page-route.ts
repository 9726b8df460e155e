import { RequestMethod, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import {
  resolveStatusPageRoute,
  StatusPage,
  type Metering,
  type StatusPageRequest,
} from '@meterkit/core';
import { type MeteringModuleOptions } from '../metering-options';

/** The status page request as the core sees it, carrying the platform's request for the app's guard. */
export interface GuardedRequest extends StatusPageRequest {
  readonly platformRequest: unknown;
}

/** The status page of one MeteringModule, or none when the app configures none; closed on shutdown. */
export class StatusPageRoute implements OnApplicationShutdown {
  constructor(readonly page: StatusPage | undefined) {}

  onApplicationShutdown(): void {
    this.page?.close();
  }
}

/**
 * Creates the core's StatusPage once the module's options are known (forRootAsync included; the core throws
 * ERR_METERKIT_OPTIONS without a token or guard) and maps the controller's handlers to GET `<path>` and `<path>.json`,
 * and the login form to POST `<path>`.
 */
export function statusPageRouteFactory(controller: Type<unknown>, handlers: { readonly html: string; readonly json: string; readonly login: string }) {
  return (options: MeteringModuleOptions, metering: Metering): StatusPageRoute => {
    const resolved = resolveStatusPageRoute(options.statusPage);
    if (resolved === undefined) return new StatusPageRoute(undefined);
    const guard = resolved.guard;
    const page = new StatusPage(metering, {
      ...(resolved.token === undefined ? {} : { token: resolved.token }),
      ...(guard === undefined ? {} : { guard: (request: StatusPageRequest) => guard((request as GuardedRequest).platformRequest) }),
      ...(resolved.recentErrors === undefined ? {} : { recentErrors: resolved.recentErrors }),
      ...(resolved.path === undefined ? {} : { path: resolved.path }),
      ...(resolved.sessionMs === undefined ? {} : { sessionMs: resolved.sessionMs }),
      ...(resolved.customersPerPage === undefined ? {} : { customersPerPage: resolved.customersPerPage }),
      ...(resolved.refreshSeconds === undefined ? {} : { refreshSeconds: resolved.refreshSeconds }),
    });
    Reflect.defineMetadata(PATH_METADATA, '/', controller);
    const routes = [
      [handlers.html, page.path, RequestMethod.GET],
      [handlers.json, `${page.path}.json`, RequestMethod.GET],
      [handlers.login, page.path, RequestMethod.POST],
    ] as const;
    for (const [handler, path, verb] of routes) {
      const method = (controller.prototype as Record<string, object>)[handler]!;
      Reflect.defineMetadata(PATH_METADATA, path, method);
      Reflect.defineMetadata(METHOD_METADATA, verb, method);
    }
    return new StatusPageRoute(page);
  };
}
