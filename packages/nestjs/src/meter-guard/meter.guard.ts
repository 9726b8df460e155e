import { HttpException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { checkRouteEntitlement, ErrorCodes, MeterkitError } from '@meterkit/core';
import type { Binding, RequestMetering } from '../request-metering';
import { requestMeteringOf } from '../request-metering.lookup';
import { RouteDeclarationsCache, type RouteDeclarations } from './route-declarations';

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * The route guard `@Metered()`, `@Meter()` and `@RequireEntitlement()` put on what they decorate (routes that declare
 * nothing run none of it); MeteringModule makes it the last guard of each such route (MeterGuardPlacement), so
 * `identify` reads what the app's authentication set. It binds the request's meter (RequestMetering: `identify`, the
 * customer, the response settling the meter by the commit policy), lets the request through only when its buyer
 * holds every entitlement the route requires (otherwise the core's 403 ERR_METERKIT_ENTITLEMENT_REQUIRED, or 503
 * ERR_METERKIT_STORE when the buyer could not be looked up, its headers set here and its body an HttpException's),
 * and records the route's `@Metered()` usage, which the commit policy bills or discards on the answer's status.
 * Metering trouble never fails the request.
 */
@Injectable()
export class MeterGuard implements CanActivate {
  private readonly routes = new RouteDeclarationsCache();

  private resolved: RequestMetering | undefined;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  private get requests(): RequestMetering {
    return (this.resolved ??= requestMeteringOf(this.moduleRef));
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const declarations = this.routes.of(context.getClass(), context.getHandler());
    if (!declarations.binds) return true;
    // An HTTP context's arguments are [request, response, next]; switchToHttp() would add three closures to it.
    const request = context.getArgByIndex<object>(0);
    const response = context.getArgByIndex<unknown>(1);
    const binding = this.requests.bind(request, response);
    if (isPromise(binding)) return binding.then((bound) => this.admit(bound, declarations, request, response));
    return this.admit(binding, declarations, request, response);
  }

  private admit({ meter, error }: Binding, { usages, requirements }: RouteDeclarations, request: object, response: unknown): true {
    for (const requirement of requirements) {
      const result = checkRouteEntitlement(meter, error, requirement);
      if (result.ok) continue;
      for (const [name, value] of Object.entries(result.headers)) this.adapterHost.httpAdapter.setHeader(response, name, value);
      throw new HttpException(result.body, result.status);
    }
    if (meter === null || usages === null) return true;
    for (const usage of usages) {
      try {
        meter.record(usage.dimension, usage.quantity);
      } catch (cause) {
        this.requests.report(cause instanceof MeterkitError ? cause : new MeterkitError(ErrorCodes.UNKNOWN_DIMENSION, String(cause)), request);
      }
    }
    return true;
  }
}
