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
 * ERR_METERKIT_OPTIONS without a token or guard) and maps the controller's handlers to GET `<path>` and `<path>.json`.
 */
export function statusPageRouteFactory(controller: Type<unknown>, handlers: { readonly html: string; readonly json: string }) {
  return (options: MeteringModuleOptions, metering: Metering): StatusPageRoute => {
    const resolved = resolveStatusPageRoute(options.statusPage);
    if (resolved === undefined) return new StatusPageRoute(undefined);
    const guard = resolved.guard;
    const page = new StatusPage(metering, {
      ...(resolved.token === undefined ? {} : { token: resolved.token }),
      ...(guard === undefined ? {} : { guard: (request: StatusPageRequest) => guard((request as GuardedRequest).platformRequest) }),
      ...(resolved.recentErrors === undefined ? {} : { recentErrors: resolved.recentErrors }),
      ...(resolved.path === undefined ? {} : { path: resolved.path }),
    });
    Reflect.defineMetadata(PATH_METADATA, '/', controller);
    for (const [handler, path] of [[handlers.html, page.path], [handlers.json, `${page.path}.json`]] as const) {
      const method = (controller.prototype as Record<string, object>)[handler]!;
      Reflect.defineMetadata(PATH_METADATA, path, method);
      Reflect.defineMetadata(METHOD_METADATA, RequestMethod.GET, method);
    }
    return new StatusPageRoute(page);
  };
}
